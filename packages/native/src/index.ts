/**
 * @memshed/native: Linux kernel notifications for memshed through a small N-API addon, loaded
 * lazily (importing this package never throws; calling a watcher where the addon is not built
 * throws a MemshedError of kind `unavailable` that says why and what to do).
 */
export { watchEventfd, watchPriority } from './native-watcher';
export type { NativeWatcher } from './native-watcher';
export { mallocTrim } from './malloc-trim';
export type { MallocTrimResult } from './malloc-trim';
export { nativeAvailability } from './native-availability';
export { obtainGc } from './obtain-gc';
export type { GcAvailability, GcFunction } from './obtain-gc';
export type { NativeAvailability } from './native-addon';
