import { readFileSync } from 'node:fs';
import path from 'node:path';

/** /proc/meminfo fields in bytes (the file says kB, meaning KiB). */
export type Meminfo = Readonly<Record<string, number>>;

/** Parses /proc/meminfo text into bytes per field. Malformed lines are skipped. */
export function parseMeminfo(text: string): Meminfo {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) out[match[1]] = Number(match[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return out;
}

/** The machine's available memory as a fraction of the total (MemAvailable / MemTotal), or undefined. */
export function availableFraction(root = '/'): number | undefined {
  try {
    const info = parseMeminfo(readFileSync(path.join(root, 'proc/meminfo'), 'utf8'));
    if (!(info.MemTotal > 0) || info.MemAvailable === undefined) return undefined;
    return info.MemAvailable / info.MemTotal;
  } catch {
    return undefined;
  }
}
