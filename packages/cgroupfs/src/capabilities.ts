import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Linux capability numbers memshed cares about (include/uapi/linux/capability.h). */
export const Capability = {
  /** Needed for PSI trigger windows that are not multiples of 2 s, and for raising limits. */
  SYS_RESOURCE: 24,
  /** Needed to write cgroup files owned by root. */
  SYS_ADMIN: 21,
} as const;

/**
 * Whether this process has capability `cap` in its effective set (the `CapEff` mask of
 * /proc/self/status). False when it cannot be read (not Linux).
 */
export function hasCapability(cap: number, root = '/'): boolean {
  try {
    const status = readFileSync(path.join(root, 'proc/self/status'), 'utf8');
    const match = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
    if (!match) return false;
    return ((BigInt('0x' + match[1]) >> BigInt(cap)) & 1n) === 1n;
  } catch {
    return false;
  }
}
