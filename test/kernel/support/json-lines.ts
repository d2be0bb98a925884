import type { ChildProcess } from 'node:child_process';

/**
 * Calls `onLine` with every JSON object a child prints on stdout, one per line (the child
 * services of the kernel and end-to-end tests report that way); other lines are ignored.
 */
export function readJsonLines(child: ChildProcess, onLine: (line: Record<string, unknown>) => void): void {
  let buffered = '';
  child.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('{')) onLine(JSON.parse(line) as Record<string, unknown>);
    }
  });
}
