import { NativeError, addonLoader, errnoError, type RawNativeWatcher } from './native-addon';

/**
 * A kernel file descriptor watched by libuv. Unref'd by default: it never keeps the process alive
 * by itself (call `ref()` to make it). `close()` stops the watch and closes the fd at once (which
 * also drops any kernel registration tied to it, such as a cgroup v1 eventfd or a PSI trigger);
 * after it, the callback is never called again. An open watcher is kept alive by the addon even
 * when the program holds no reference to it: close it when done.
 */
export interface NativeWatcher {
  /** The watched file descriptor; -1 once closed. */
  readonly fd: number;
  /** Whether `close()` was called (or the watcher closed itself on POLLERR). */
  readonly closed: boolean;
  /** Stops watching and closes the fd. Idempotent; safe inside the callback. */
  close(): void;
  /** Lets the watcher keep the event loop alive. */
  ref(): this;
  /** The default: the watcher does not keep the event loop alive. */
  unref(): this;
  /** Whether the watcher is paused (see `pause()`). */
  readonly paused: boolean;
  /**
   * Stops polling without closing: the kernel keeps counting (eventfd) or keeps the event pending
   * (POLLPRI), and `resume()` delivers what accumulated in one callback. A source uses it to bound
   * its wakeups during a storm of kernel events. No-op when closed or already paused.
   */
  pause(): this;
  /** Polls again after `pause()`; an event that arrived meanwhile is delivered on the next poll. */
  resume(): this;
}

/**
 * Creates an eventfd (`eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`), watches it for readability and
 * calls `callback(count)` with the counter read (and reset) on each wakeup. Several writes before
 * one wakeup arrive as one call with their sum: this is how kernel notifications coalesce.
 * Register the fd with the kernel (e.g. cgroup v1 `cgroup.event_control`) after creating it.
 *
 * A throwing callback is an uncaught exception, as in any event-emitter callback.
 *
 * @throws NativeError `ADDON_UNAVAILABLE` where the addon is not built or the platform is not
 *   Linux; `EMFILE`/`ENFILE` when the process or the system is out of file descriptors.
 */
export function watchEventfd(callback: (count: number) => void): NativeWatcher {
  const addon = addonLoader.addon('watchEventfd (eventfd notifications)');
  if (typeof callback !== 'function')
    throw new NativeError('EINVAL', 'watchEventfd(callback): callback must be a function');
  try {
    return addon.watchEventfd!(callback) as RawNativeWatcher;
  } catch (error) {
    throw errnoError(error, 'Could not create an eventfd');
  }
}

/**
 * Opens `path` read-write and non-blocking, writes `text` and its terminating NUL in one
 * `write(2)` (a PSI trigger such as `some 150000 1000000`), then watches the file for POLLPRI:
 * `callback({ error: false })` on each POLLPRI, and `callback({ error: true })` once on POLLERR
 * (the group went away, PSI was disabled), after which the watcher has closed itself.
 *
 * @throws NativeError with the errno name as `code` and in the message (EACCES/EPERM, ENOENT,
 *   EINVAL, EBUSY, ...), or `ADDON_UNAVAILABLE` where the addon is not built or the platform is not
 *   Linux.
 */
export function watchPriority(
  path: string,
  text: string,
  callback: (event: { error: boolean }) => void,
): NativeWatcher {
  const addon = addonLoader.addon('watchPriority (POLLPRI triggers)');
  if (typeof path !== 'string' || typeof text !== 'string' || typeof callback !== 'function')
    throw new NativeError(
      'EINVAL',
      'watchPriority(path, text, callback): expected (string, string, function)',
    );
  try {
    return addon.watchPriority!(path, text, callback) as RawNativeWatcher;
  } catch (error) {
    throw errnoError(error, `Could not arm '${text}' on ${path}`);
  }
}
