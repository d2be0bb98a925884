export { ConfigError, configIssue, describeValue, displayPath, joinPath } from './config-error';
export type { ConfigIssue, SourcePosition } from './config-error';
export {
  actionEntrySchema,
  configFileSchema,
  defineConfig,
  durationSchema,
  levelSchema,
  policySchema,
  recoverySchema,
  sourceEntrySchema,
  whenSchema,
} from './config-schema';
export type {
  ActionEntryConfig,
  MemshedConfigFile,
  MemshedConfigInput,
  PolicyConfig,
  SourceEntryConfig,
} from './config-schema';
export { CODE_EXTENSIONS, formatOf, parseConfigFile, readConfigFile } from './config-loaders';
export type { ConfigDocument, ConfigFormat, ParseOptions } from './config-loaders';
export { MODULE_NAME, discoverConfig, projectRoot, searchPlaces } from './discover-config';
export type { DiscoverOptions } from './discover-config';
export { loadConfig } from './load-config';
export type {
  ConfigLocation,
  ConfigPlugin,
  LoadConfigOptions,
  LoadedConfig,
  ResolvedAction,
  ResolvedPolicy,
  ResolvedSource,
} from './load-config-types';
// The policy engine moved to @memshed/policy; re-exported for users of @memshed/config.
export { PolicyRunner } from '@memshed/policy';
export type { CompiledPolicy, PolicyDecision, PolicyRunnerOptions } from '@memshed/policy';
export { createMemshedFromConfig } from './create-memshed-from-config';
export type { ConfigMemshedOptions, ConfiguredMemshed } from './create-memshed-from-config';
export { configJsonSchema, pluginOptionsJsonSchema } from './json-schema';
export type { SchemaPlugins } from './json-schema';
export { checkWithSchema, isZodSchema } from './schema-issues';
export type { SchemaProblem } from './schema-issues';
export {
  BUILTIN_PLUGIN_PACKAGES,
  builtinModules,
  containerModuleOf,
  importPluginModule,
  isContainerModule,
  isPathSpecifier,
  loadBuiltinPlugins,
  requirePluginModule,
} from './plugin-modules';
