/**
 * What went wrong, as a stable machine-readable kind. Messages are for people; kinds are for code.
 *
 * - `invalid-argument`: a caller passed a value the API cannot accept (bad path, level, count).
 * - `invalid-config`: a configuration file or options object does not match its schema.
 * - `unknown-plugin`: a source or action id that no loaded plugin provides.
 * - `unavailable`: a feature this machine or platform does not offer (no cgroup v1, no addon).
 * - `permission`: the kernel refused for lack of privilege.
 * - `source-failed`: a running source failed; the others carry on.
 * - `action-failed`: a shedding action threw, rejected or was cancelled.
 * - `timeout`: an operation did not finish in its time budget.
 * - `internal`: a bug in memshed; please report it.
 */
export type MemshedErrorKind =
  | 'invalid-argument'
  | 'invalid-config'
  | 'unknown-plugin'
  | 'unavailable'
  | 'permission'
  | 'source-failed'
  | 'action-failed'
  | 'timeout'
  | 'internal';

const BRAND = Symbol.for('@memshed/core/MemshedError');

/** Options for {@link MemshedError}. */
export interface MemshedErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
  /** What the user can do about it, appended to the message as "Fix: ...". */
  fix?: string;
  /** Where it happened: a plugin id, a file, a key path. */
  context?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type memshed throws and reports. Branded so that `MemshedError.is()` works
 * across copies of the package (two versions in one node_modules tree).
 *
 * @example
 * throw new MemshedError('unavailable', 'cgroup v1 memory controller not mounted', {
 *   fix: 'use the psi source on cgroup v2 machines',
 * });
 */
export class MemshedError extends Error {
  /** The stable kind of failure. */
  readonly kind: MemshedErrorKind;
  /** The suggested fix, also part of `message`. */
  readonly fix: string | undefined;
  /** Where the failure happened. */
  readonly context: Readonly<Record<string, unknown>>;
  private readonly [BRAND] = true;

  constructor(kind: MemshedErrorKind, message: string, options: MemshedErrorOptions = {}) {
    super(options.fix ? `${message}. Fix: ${options.fix}` : message, { cause: options.cause });
    this.name = 'MemshedError';
    this.kind = kind;
    this.fix = options.fix;
    this.context = options.context ?? {};
  }

  /** Whether `value` is a MemshedError (of a given kind, when `kind` is passed). */
  static is(value: unknown, kind?: MemshedErrorKind): value is MemshedError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      (kind === undefined || (value as MemshedError).kind === kind)
    );
  }

  /** Wraps any thrown value as a MemshedError of `kind`, keeping an existing MemshedError as it is. */
  static from(value: unknown, kind: MemshedErrorKind, message: string, options: MemshedErrorOptions = {}) {
    if (MemshedError.is(value)) return value;
    const detail = value instanceof Error ? value.message : String(value);
    return new MemshedError(kind, `${message}: ${detail}`, { ...options, cause: value });
  }
}
