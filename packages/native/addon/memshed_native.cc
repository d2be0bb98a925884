// memshed native watchers for Linux: an eventfd watched by libuv (cgroup v1 notifications), a
// file watched for POLLPRI after writing a trigger to it (PSI), and glibc's malloc_trim.
//
// Lifetime: a Watcher holds a strong reference to its JS object while open, so that a watcher
// the program dropped keeps delivering (like an unref'd timer); close() releases the poll
// handle, the fd (at once, so that a cgroup registration goes away synchronously) and the
// reference. The uv_poll_t is freed in its close callback.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

class Watcher;

// Per-environment state (main thread, each worker thread).
struct AddonData {
  Napi::FunctionReference watcherConstructor;
  std::unordered_set<Watcher*> open;
};

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(syscall) + (path.empty() ? "" : " " + path) + ": " + std::strerror(err) +
                        " (" + code + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Set("path", Napi::String::New(env, path));
  return error;
}

enum class Kind { Eventfd, Priority };

class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeWatcher",
                       {
                           InstanceAccessor<&Watcher::GetFd>("fd"),
                           InstanceAccessor<&Watcher::GetClosed>("closed"),
                           InstanceAccessor<&Watcher::GetPaused>("paused"),
                           InstanceMethod<&Watcher::JsClose>("close"),
                           InstanceMethod<&Watcher::JsRef>("ref"),
                           InstanceMethod<&Watcher::JsUnref>("unref"),
                           InstanceMethod<&Watcher::JsPause>("pause"),
                           InstanceMethod<&Watcher::JsResume>("resume"),
                       });
  }

  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {}

  ~Watcher() override { Close(); }

  // Takes ownership of fd (closes it on failure). Returns false with a pending JS exception.
  bool Start(Napi::Env env, int fd, Kind kind, Napi::Function callback, const std::string& path) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      ::close(fd);
      Napi::Error::New(env, "memshed native: no libuv loop in this environment").ThrowAsJavaScriptException();
      return false;
    }
    auto* poll = new uv_poll_t;
    int rc = uv_poll_init(loop, poll, fd);
    if (rc == 0) {
      poll->data = this;
      rc = uv_poll_start(poll, kind == Kind::Eventfd ? UV_READABLE : UV_PRIORITIZED, &Watcher::OnPoll);
      if (rc != 0) uv_close(reinterpret_cast<uv_handle_t*>(poll), &Watcher::OnClosed);
    } else {
      delete poll;
    }
    if (rc != 0) {
      ::close(fd);
      ErrnoError(env, -rc, "uv_poll_start", path).ThrowAsJavaScriptException();
      return false;
    }
    // Watchers never keep the process alive by themselves.
    uv_unref(reinterpret_cast<uv_handle_t*>(poll));
    fd_ = fd;
    kind_ = kind;
    poll_ = poll;
    paused_ = false;
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, kind == Kind::Eventfd ? "memshed:eventfd" : "memshed:pollpri");
    data_ = env.GetInstanceData<AddonData>();
    data_->open.insert(this);
    Ref();
    return true;
  }

  // Stops polling and closes the fd now; idempotent. Safe inside the callback.
  void Close() {
    if (!StopPolling()) return;
    // The async context stays until the wrapper is collected: Close() may run inside the
    // callback, while MakeCallback still uses it.
    callback_.Reset();
    if (data_ != nullptr) data_->open.erase(this);
    data_ = nullptr;
    Unref();
  }

  // Environment teardown (process exit, worker termination): release fds without calling JS.
  void CloseForTeardown() {
    if (!StopPolling()) return;
    data_ = nullptr;
  }

 private:
  // Stops the poll and closes the fd; false when they already were. The one place both close paths
  // (Close and CloseForTeardown) release the poll handle and the fd.
  bool StopPolling() {
    if (poll_ == nullptr) return false;
    uv_poll_t* poll = poll_;
    poll_ = nullptr;
    poll->data = nullptr;
    // uv_close stops the poll and drops the fd from epoll (and from the current batch of
    // events) at once, so the fd can be closed here rather than in the close callback.
    uv_close(reinterpret_cast<uv_handle_t*>(poll), &Watcher::OnClosed);
    ::close(fd_);
    fd_ = -1;
    return true;
  }

  static void OnClosed(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<Watcher*>(handle->data);
    if (self == nullptr || self->poll_ != handle) return;
    self->Deliver(status, events);
  }

  void Deliver(int status, int /*events*/) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Keeps this wrapper alive across the callback even if the callback closes it.
    Napi::Object self = Value();
    Napi::Value argument;
    bool closeAfter = false;
    if (kind_ == Kind::Eventfd) {
      uint64_t count = 0;
      ssize_t n;
      do {
        n = ::read(fd_, &count, sizeof count);
      } while (n < 0 && errno == EINTR);
      // EAGAIN: another reader (or a spurious wakeup) took it; nothing to report.
      if (n != static_cast<ssize_t>(sizeof count)) return;
      argument = Napi::Number::New(env, static_cast<double>(count));
    } else {
      // libuv folds POLLERR into the requested events when POLLPRI comes with it, so ask the
      // kernel directly whether the file is in error (PSI: the group went away or PSI was
      // disabled). Level-triggered POLLERR would spin: the watcher closes itself.
      bool error = status < 0;
      if (!error) {
        struct pollfd pfd = {fd_, POLLPRI, 0};
        if (::poll(&pfd, 1, 0) > 0) error = (pfd.revents & (POLLERR | POLLNVAL)) != 0;
      }
      Napi::Object event = Napi::Object::New(env);
      event.Set("error", Napi::Boolean::New(env, error));
      argument = event;
      closeAfter = error;
    }
    // Keep the callback past Close(), which resets the member.
    Napi::Function callback = callback_.Value();
    if (closeAfter) Close();
    // The C call rather than Napi::Function::MakeCallback: when the environment is being torn down
    // (the process exits while the kernel still signals: libuv runs pending polls once more while
    // closing handles) JS cannot run, and node-addon-api would turn that into a fatal error.
    napi_value argv[] = {argument};
    napi_value result = nullptr;
    napi_status called = napi_make_callback(env, *context_, self, callback, 1, argv, &result);
    if (called == napi_ok) return;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      // The callback threw: an uncaught exception, as for any other callback from the loop.
      napi_value error = nullptr;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
      return;
    }
    // JS cannot run here any more: release the fd now, deliver nothing.
    CloseForTeardown();
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), poll_ == nullptr); }

  Napi::Value JsClose(const Napi::CallbackInfo& info) {
    Close();
    return info.Env().Undefined();
  }

  Napi::Value GetPaused(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), paused_); }

  // pause(): stop polling; the kernel keeps counting (eventfd) or keeps the event pending (PSI),
  // and resume() delivers what accumulated at once. How a source rate-limits wakeups in a storm.
  Napi::Value JsPause(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr && !paused_) {
      uv_poll_stop(poll_);
      paused_ = true;
    }
    return info.This();
  }

  Napi::Value JsResume(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr && paused_) {
      int rc = uv_poll_start(poll_, kind_ == Kind::Eventfd ? UV_READABLE : UV_PRIORITIZED, &Watcher::OnPoll);
      if (rc != 0) {
        ErrnoError(info.Env(), -rc, "uv_poll_start", "").ThrowAsJavaScriptException();
        return info.Env().Undefined();
      }
      paused_ = false;
    }
    return info.This();
  }

  Napi::Value JsRef(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  Napi::Value JsUnref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.This();
  }

  int fd_ = -1;
  Kind kind_ = Kind::Eventfd;
  uv_poll_t* poll_ = nullptr;
  bool paused_ = false;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  AddonData* data_ = nullptr;
};

Napi::Value NewWatcher(Napi::Env env, int fd, Kind kind, Napi::Function callback, const std::string& path) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Object object = data->watcherConstructor.New({});
  if (env.IsExceptionPending()) {
    ::close(fd);
    return env.Undefined();
  }
  Watcher* watcher = Watcher::Unwrap(object);
  if (!watcher->Start(env, fd, kind, callback, path)) return env.Undefined();
  return object;
}

// watchEventfd(callback(count)) -> NativeWatcher
Napi::Value WatchEventfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    Napi::TypeError::New(env, "watchEventfd(callback): callback must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    ErrnoError(env, errno, "eventfd", "").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return NewWatcher(env, fd, Kind::Eventfd, info[0].As<Napi::Function>(), "");
}

// watchPriority(path, text, callback({ error })) -> NativeWatcher
Napi::Value WatchPriority(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsFunction()) {
    Napi::TypeError::New(env, "watchPriority(path, text, callback): expected (string, string, function)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string text = info[1].As<Napi::String>().Utf8Value();
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    ErrnoError(env, errno, "open", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // The trigger and its NUL in one write, as the kernel's PSI documentation does.
  ssize_t n;
  do {
    n = ::write(fd, text.c_str(), text.size() + 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    ::close(fd);
    ErrnoError(env, err, "write", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return NewWatcher(env, fd, Kind::Priority, info[2].As<Napi::Function>(), path);
}

Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
#if defined(__GLIBC__)
  int released = ::malloc_trim(0);
  result.Set("available", Napi::Boolean::New(env, true));
  result.Set("released", Napi::Boolean::New(env, released != 0));
#else
  result.Set("available", Napi::Boolean::New(env, false));
  result.Set("released", Napi::Boolean::New(env, false));
  result.Set("reason", Napi::String::New(env, "malloc_trim is a glibc function; this libc does not have it"));
#endif
  return result;
}

void Teardown(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  std::unordered_set<Watcher*> open;
  open.swap(data->open);
  for (Watcher* watcher : open) watcher->CloseForTeardown();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->watcherConstructor = Napi::Persistent(Watcher::Define(env));
  env.SetInstanceData<AddonData>(data);
  napi_add_env_cleanup_hook(env, &Teardown, data);
  exports.Set("platformSupported", Napi::Boolean::New(env, true));
  exports.Set("watchEventfd", Napi::Function::New<WatchEventfd>(env, "watchEventfd"));
  exports.Set("watchPriority", Napi::Function::New<WatchPriority>(env, "watchPriority"));
  exports.Set("mallocTrim", Napi::Function::New<MallocTrim>(env, "mallocTrim"));
  return exports;
}

}  // namespace

NODE_API_MODULE(memshed_native, Init)
