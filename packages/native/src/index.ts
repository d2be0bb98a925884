/**
 * @memshed/native: what the runtime does not hand to JavaScript. Linux kernel notifications and
 * glibc's `malloc_trim` through a small N-API addon, loaded lazily (importing this package never
 * throws; calling a watcher where the addon is not built throws a MemshedError of kind
 * `unavailable` that says why and what to do), and V8's `gc()` without `--expose-gc`
 * ({@link obtainGc}, which never throws either).
 */
export { watchEventfd, watchPriority } from './native-watcher';
export type { NativeWatcher } from './native-watcher';
export { mallocTrim } from './malloc-trim';
export type { MallocTrimResult } from './malloc-trim';
export { nativeAvailability } from './native-availability';
export { obtainGc } from './obtain-gc';
export type { GcAvailability, GcFunction } from './obtain-gc';
export type { NativeAvailability } from './native-addon';
