import { addonLoader } from './native-addon';

/** What {@link mallocTrim} did. */
export interface MallocTrimResult {
  /** Whether malloc_trim exists here (glibc, addon built). */
  readonly available: boolean;
  /** Whether glibc gave memory back to the kernel. */
  readonly released: boolean;
  /** Why it is not available, when it is not. */
  readonly reason?: string;
}

/**
 * glibc's `malloc_trim(0)`: returns the free memory at the top of the heap and the free pages of
 * every arena to the kernel. Freed Buffers smaller than glibc's mmap threshold (128 KiB) otherwise
 * stay in the process for seconds after V8 released them, so the
 * gc action calls this after collecting garbage.
 *
 * Never throws: on other libcs, other platforms or without the addon it reports
 * `{ available: false, released: false, reason }`.
 */
export function mallocTrim(): MallocTrimResult {
  const availability = addonLoader.availability();
  if (!availability.available) return { available: false, released: false, reason: availability.reason };
  return addonLoader.addon('mallocTrim').mallocTrim!();
}
