/** The simulated page size: 4 KiB, as on x86-64 and most arm64 kernels. Every count in the model is pages. */
export const PAGE_SIZE = 4096;

/** Bytes to whole pages, rounding up (a partial page still takes a page). */
export function bytesToPages(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** Pages to MiB, for people. */
export function pagesToMiB(pages: number): number {
  return (pages * PAGE_SIZE) / 1024 ** 2;
}
