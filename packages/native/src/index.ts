/**
 * @memshed/native: Linux kernel notifications for memshed through a small N-API addon, loaded
 * lazily (importing this package never throws; calling a watcher where the addon is not built
 * throws a NativeError of code `ADDON_UNAVAILABLE` that says why and what to do). Depends on
 * nothing of memshed: its errors carry a `code` (an errno name) that callers turn into their own.
 */
export { watchEventfd, watchPriority } from './native-watcher';
export type { NativeWatcher } from './native-watcher';
export { mallocTrim } from './malloc-trim';
export type { MallocTrimResult } from './malloc-trim';
export { nativeAvailability } from './native-availability';
export { NativeError } from './native-addon';
export type { NativeAvailability } from './native-addon';
