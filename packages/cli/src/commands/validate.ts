import { formatDuration } from '@memshed/core';
import { ConfigError, loadConfig, type ConfigIssue, type LoadedConfig } from '@memshed/config';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';

/** Options of `memshed validate`. */
export interface ValidateOptions {
  safe?: boolean;
  json?: boolean;
}

/** `memshed validate [FILE] [--safe] [--json]`: checks a config without starting anything. */
export async function validate(
  file: string | undefined,
  options: ValidateOptions,
  io: CliIo,
): Promise<ExitCode> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({
      ...(file === undefined ? {} : { config: file }),
      safe: options.safe ?? false,
    });
  } catch (error) {
    if (!ConfigError.isConfigError(error)) throw error;
    reportConfigError(error, io, options.json ?? false);
    return ExitCode.Usage;
  }
  if (options.json) writeLine(io.stdout, JSON.stringify({ valid: true, ...summarize(loaded) }));
  else printSummary(io, loaded);
  return ExitCode.Ok;
}

/**
 * Writes a config error: one line per problem on stderr (`<file>: <key path>: <what>. <fix>`), or
 * with `json` one document on stdout with every issue, its position and fix.
 */
export function reportConfigError(error: ConfigError, io: CliIo, json: boolean): void {
  if (json) {
    writeLine(io.stdout, JSON.stringify({ valid: false, issues: error.issues.map(issueToJson) }));
    return;
  }
  for (const issue of error.issues) writeLine(io.stderr, issue.message);
  if (error.issues.length > 1) writeLine(io.stderr, `memshed: ${error.issues.length} problems in the config`);
}

function issueToJson(issue: ConfigIssue) {
  return {
    kind: issue.kind,
    file: issue.file,
    path: issue.path,
    ...(issue.position ? { line: issue.position.line, column: issue.position.column } : {}),
    problem: issue.problem,
    ...(issue.fix ? { fix: issue.fix } : {}),
    message: issue.message,
  };
}

function summarize(config: LoadedConfig) {
  return {
    file: config.file,
    files: config.files,
    sources: config.sources.map((source) => ({
      use: source.use,
      options: source.options,
      optional: source.optional,
    })),
    recovery: config.recovery,
    policies: config.policies.map((policy) => ({
      name: policy.name,
      level: policy.level,
      forMs: policy.for,
      ...(policy.scope !== undefined ? { scope: policy.scope } : {}),
      ...(policy.cooldown !== undefined ? { cooldownMs: policy.cooldown } : {}),
      dryRun: policy.dryRun ?? config.dryRun,
      do: policy.do.map((action) => ({ use: action.use, name: action.name, options: action.options })),
    })),
    dryRun: config.dryRun,
    actionTimeoutMs: config.actionTimeout,
  };
}

function printSummary(io: CliIo, config: LoadedConfig): void {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  writeLine(
    io.stdout,
    `${config.file}: valid: ${count(config.sources.length, 'source', 'sources')}, ${count(config.policies.length, 'policy', 'policies')}${config.dryRun ? ', dry run' : ''}`,
  );
  if (config.files.length > 1) writeLine(io.stdout, `  imports: ${config.files.slice(1).join(', ')}`);
  writeLine(
    io.stdout,
    `  sources: ${config.sources.map((source) => `${source.use}${source.optional ? ' (optional)' : ''}`).join(', ')}`,
  );
  for (const policy of config.policies) {
    const when = `${policy.level}${policy.for > 0 ? ` for ${formatDuration(policy.for)}` : ''}${policy.scope ? ` in ${policy.scope}` : ''}`;
    const cooldown =
      policy.cooldown !== undefined
        ? `, cooldown ${formatDuration(policy.cooldown)}`
        : ', again on each new signal while it holds';
    const chain = policy.do.map((action) =>
      action.name === action.use ? action.use : `${action.name} (${action.use})`,
    );
    writeLine(io.stdout, `  policy ${policy.name}: when ${when}: ${chain.join(' -> ')}${cooldown}`);
  }
}
