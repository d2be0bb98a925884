/** Where memshed writes what it decides and what fails. Any console-like object fits. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** A logger that writes nothing: the library default, so that memshed is silent unless asked. */
export const silentLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

const ORDER = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/** A logger that writes `[memshed] message` lines at `level` and above to the console (stderr). */
export function consoleLogger(level: keyof typeof ORDER = 'info'): Logger {
  const min = ORDER[level];
  const write =
    (at: keyof typeof ORDER) =>
    (message: string, ...details: unknown[]) => {
      if (ORDER[at] >= min) console.error(`[memshed] ${at}: ${message}`, ...details);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
