import type { PressureSourceFactory, SheddingActionFactory } from '@memshed/core';
import type { PolicyActionSpec, PolicySpec } from '@memshed/policy';
import type { ContainerModule } from '@memshed/core/inversify';
import type { DiscoverOptions } from './discover-config';

// The public shapes of loadConfig: what it takes and what it gives back.

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions extends DiscoverOptions {
  /**
   * The config: a file path (relative to `cwd`), or the config object itself. Default: discovered
   * with cosmiconfig from `cwd`.
   */
  readonly config?: string | object;
  /**
   * The plugin modules that provide the ids config files name. Default: the installed built-in
   * plugins. Modules named in config (`plugins:`, `use: ./x.js`) are added to them.
   */
  readonly modules?: readonly ContainerModule[];
}

/** A plugin a config can name, and where it comes from. */
export interface ConfigPlugin {
  /** `source` or `action`. */
  readonly kind: 'source' | 'action';
  /** The id used in config. */
  readonly id: string;
  /** Its factory: description, options schema, create(). */
  readonly factory: PressureSourceFactory | SheddingActionFactory;
  /** `built-in`, or the module specifier that provided it. */
  readonly origin: string;
}

/** Where an entry was written: the file and its key path there. */
export interface ConfigLocation {
  /** The file as shown in messages. */
  readonly file: string;
  /** The key path in that file, e.g. `policies[0]`. */
  readonly path: string;
}

/** A source entry, resolved and validated. */
export interface ResolvedSource extends ConfigLocation {
  /** The plugin id. */
  readonly use: string;
  /** The options as validated by the plugin's schema (defaults applied). */
  readonly options: unknown;
  /** The options as written, for `createMemshed` (which validates them again). */
  readonly with: unknown;
  /** Whether it is skipped without an error where it is unavailable (`optional: true`). */
  readonly optional: boolean;
}

/** An action of a policy's chain, resolved and validated. */
export interface ResolvedAction extends PolicyActionSpec, ConfigLocation {
  /** The options as written. */
  readonly with: unknown;
}

/** A policy, resolved: durations in ms, actions resolved. */
export interface ResolvedPolicy extends PolicySpec, ConfigLocation {
  /** The chain. */
  readonly do: readonly ResolvedAction[];
}

/** A config found, parsed, validated and resolved against the plugins: ready to start. */
export interface LoadedConfig {
  /** The root file (absolute), or undefined for a config object. */
  readonly filepath: string | undefined;
  /** The root file as shown in messages. */
  readonly file: string;
  /** Every file read, the root first, then the imports in merge order. */
  readonly files: readonly string[];
  /** The plugin modules to load: the built-ins given, then those the config names. */
  readonly modules: readonly ContainerModule[];
  /** Every plugin the config can name. */
  readonly plugins: readonly ConfigPlugin[];
  /** The sources, in order. */
  readonly sources: readonly ResolvedSource[];
  /** How the state recovers. */
  readonly recovery: { readonly quiet: number; readonly scope: string };
  /** The policies, in order. */
  readonly policies: readonly ResolvedPolicy[];
  /** Dry run for every policy that does not say. */
  readonly dryRun: boolean;
  /** Default time budget of an action (ms). */
  readonly actionTimeout: number;
}
