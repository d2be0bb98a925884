/** Where a command writes: the real process streams, or buffers in tests. */
export interface CliIo {
  /** Results: events, reports, JSON lines. */
  readonly stdout: NodeJS.WritableStream;
  /** Progress, warnings and errors. */
  readonly stderr: NodeJS.WritableStream;
  /** Whether stdout is a terminal (colour, live redraw). */
  readonly isTTY: boolean;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stdout.isTTY) };
}

/** Writes one line. */
export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(line + '\n');
}
