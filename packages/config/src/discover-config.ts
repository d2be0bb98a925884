import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { cosmiconfig, getDefaultSearchPlaces, type Loader, type SearchStrategy } from 'cosmiconfig';
import { ConfigError, configIssue, displayPath } from './config-error';
import { CODE_EXTENSIONS, formatOf, parseConfigFile, type ConfigDocument } from './config-loaders';

/** The cosmiconfig module name: `.memshedrc*`, `memshed.config.*`, package.json `"memshed"`. */
export const MODULE_NAME = 'memshed';

/** Options of {@link discoverConfig}. */
export interface DiscoverOptions {
  /** Where the search starts. Default: the working directory. */
  readonly cwd?: string;
  /** Only JSON and YAML files (and package.json): nothing that runs code. Default false. */
  readonly safe?: boolean;
  /**
   * cosmiconfig's search strategy. Default `global`: from `cwd` up to {@link stopDir}, then the
   * user's config directory (`$XDG_CONFIG_HOME/memshed/config.*`); `project` stops at the
   * nearest package.json; `none` looks in `cwd` only.
   */
  readonly searchStrategy?: SearchStrategy;
  /**
   * The last directory searched upwards. Default: the project root, i.e. the nearest directory
   * above `cwd` that holds `.git`, a package.json with `workspaces`, `lerna.json` or
   * `pnpm-workspace.yaml` (so a package of a monorepo finds its own config, else the root's),
   * or the home directory when there is none.
   */
  readonly stopDir?: string;
}

/** Where memshed looks in each directory, in order (the first found wins). */
export function searchPlaces(safe = false): string[] {
  const places = getDefaultSearchPlaces(MODULE_NAME);
  return safe
    ? places.filter((place) => !CODE_EXTENSIONS.some((extension) => place.endsWith(extension)))
    : places;
}

class DocumentEnvelope {
  constructor(readonly document: ConfigDocument) {}
}

/**
 * Finds the nearest config with cosmiconfig and parses it; undefined when there is none.
 * Throws a {@link ConfigError} when the file found cannot be parsed.
 */
export async function discoverConfig(options: DiscoverOptions = {}): Promise<ConfigDocument | undefined> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const safe = options.safe ?? false;
  const load: Loader = async (filepath, content) => {
    // The user-wide config directory may hold config.js: safe mode passes over it.
    if (safe && CODE_EXTENSIONS.includes(extensionOf(filepath))) return null;
    if (basename(filepath) === 'package.json') {
      const document = await parseConfigFile(filepath, content, { safe, cwd });
      return document.value === undefined ? {} : { [MODULE_NAME]: new DocumentEnvelope(document) };
    }
    return new DocumentEnvelope(await parseConfigFile(filepath, content, { safe, cwd }));
  };
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: searchPlaces(safe),
    searchStrategy: options.searchStrategy ?? 'global',
    stopDir: options.stopDir ?? projectRoot(cwd),
    cache: false,
    loaders: {
      '.json': load,
      '.yaml': load,
      '.yml': load,
      '.js': load,
      '.cjs': load,
      '.mjs': load,
      '.ts': load,
      noExt: load,
    },
  });
  let result: Awaited<ReturnType<typeof explorer.search>>;
  try {
    result = await explorer.search(cwd);
  } catch (error) {
    if (ConfigError.isConfigError(error)) throw error;
    const filepath = (error as { filepath?: string }).filepath;
    throw new ConfigError(
      [configIssue(displayPath(filepath ?? cwd, cwd), '', `cannot load it: ${(error as Error).message}`)],
      { cause: error },
    );
  }
  if (!result) return undefined;
  if (result.config instanceof DocumentEnvelope) return result.config.document;
  throw new ConfigError([
    configIssue(displayPath(result.filepath, cwd), '', 'unexpected content for a memshed config'),
  ]);
}

function extensionOf(filepath: string): string {
  const name = basename(filepath);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '';
}

/**
 * The root of the project holding `from`: the nearest ancestor with `.git`, a package.json with
 * `workspaces`, `lerna.json` or `pnpm-workspace.yaml`; undefined when there is none (cosmiconfig
 * then stops at the home directory).
 */
export function projectRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (
      existsSync(join(dir, '.git')) ||
      existsSync(join(dir, 'lerna.json')) ||
      existsSync(join(dir, 'pnpm-workspace.yaml')) ||
      hasWorkspaces(join(dir, 'package.json'))
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function hasWorkspaces(packageJson: string): boolean {
  try {
    return 'workspaces' in (JSON.parse(readFileSync(packageJson, 'utf8')) as object);
  } catch {
    return false;
  }
}

/** The config error for "nothing found", naming where memshed looked. */
export function notFoundError(cwd: string, safe: boolean, stopDir: string | undefined): ConfigError {
  const up = stopDir ? ` (up to ${stopDir})` : '';
  return new ConfigError([
    configIssue(cwd, '', `no memshed config found here or in the directories above${up}`, {
      fix: `Create .memshedrc.yaml (or ${safe ? '.memshedrc.json' : '.memshedrc.json, memshed.config.js'}, or a "memshed" key in package.json), or pass --config FILE`,
    }),
  ]);
}

/** Whether `filepath` can be a config by its extension. */
export function isConfigFileName(filepath: string): boolean {
  return formatOf(filepath) !== undefined;
}
