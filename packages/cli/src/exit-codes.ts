/** Process exit codes of the `memshed` command, part of its public contract. */
export const ExitCode = {
  /** Everything went as asked. */
  Ok: 0,
  /** A runtime failure: a source or action failed, the machine refused. */
  Failure: 1,
  /** Bad usage or bad config: the message names the option, file or key path. */
  Usage: 2,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
