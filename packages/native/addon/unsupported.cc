// memshed's watchers are Linux-only (eventfd, cgroup v1, PSI). Elsewhere the addon builds empty
// so that `npm ci` succeeds; the JS side reports the features as unavailable on this platform.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("platformSupported", Napi::Boolean::New(env, false));
  return exports;
}

NODE_API_MODULE(memshed_native, Init)
