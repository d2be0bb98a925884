/**
 * @memshed/native: what the runtime does not hand to JavaScript. Linux kernel notifications and
 * glibc's `malloc_trim` through a small N-API addon, loaded lazily (importing this package never
 * throws; calling a watcher where the addon is not available throws a NativeError of code
 * `ADDON_UNAVAILABLE` that says why and what to do), and V8's `gc()` without `--expose-gc`
 * ({@link obtainGc}, which never throws either). Depends on nothing of memshed: its errors carry a
 * `code` (an errno name) that callers turn into their own.
 */
export { watchEventfd, watchPriority } from './native-watcher';
export type { NativeWatcher } from './native-watcher';
export { mallocTrim } from './malloc-trim';
export type { MallocTrimResult } from './malloc-trim';
export { nativeAvailability } from './native-availability';
export { NativeError } from './native-addon';
export type { NativeAvailability } from './native-addon';
export { obtainGc } from './obtain-gc';
export type { GcAvailability, GcCallOptions, GcFunction } from './obtain-gc';
