export { main, buildProgram } from './main';
export { ExitCode } from './exit-codes';
export type { CliIo } from './io';
export type { DoctorReport } from './commands/doctor';
export {
  BUILTIN_PLUGIN_PACKAGES,
  DEFAULT_SOURCE_RANK,
  builtinModules,
  loadBuiltinPlugins,
  requirePluginModule,
} from './builtin-plugins';
export { eventToJson, eventToText } from './format';
