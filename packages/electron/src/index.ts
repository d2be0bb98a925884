/**
 * @memshed/electron: memshed in an Electron main process. A source from Electron's own memory
 * figures (`electron`), an action that clears session HTTP caches and renderer caches
 * (`electron-cache`), an action that closes or reloads background windows (`electron-windows`), and
 * the preload helper of the renderer half (`@memshed/electron/preload`).
 *
 * Nothing is required from `electron` at load: pass the Electron objects with
 * {@link electronEnvironmentModule} (or let the plugins find them when running inside Electron).
 */
import { definePlugin } from '@memshed/core';
import { ElectronCacheAction, electronCacheOptionsSchema } from './electron-cache-action';
import { ElectronEnvironment, requireEnvironment, runtimeElectronEnvironment } from './electron-environment';
import { ElectronSource, electronSourceOptionsSchema } from './electron-source';
import { ElectronWindowsAction, electronWindowsOptionsSchema } from './electron-windows-action';

export { ElectronCacheAction, electronCacheOptionsSchema } from './electron-cache-action';
export type { ElectronCacheOptions, ElectronCacheOptionsInput } from './electron-cache-action';
export {
  ElectronEnvironment,
  electronEnvironmentModule,
  requireEnvironment,
  runtimeElectronEnvironment,
} from './electron-environment';
export type {
  ElectronIpcMain,
  ElectronSession,
  ElectronWebContents,
  ElectronWindow,
  WindowDecision,
  WindowPolicy,
} from './electron-environment';
export { ElectronSource, electronSourceOptionsSchema } from './electron-source';
export type {
  ElectronMemoryReading,
  ElectronSourceOptions,
  ElectronSourceOptionsInput,
} from './electron-source';
export { ElectronWindowsAction, electronWindowsOptionsSchema } from './electron-windows-action';
export type {
  ElectronWindowsOptions,
  ElectronWindowsOptionsInput,
  WindowOutcome,
} from './electron-windows-action';
export { askRenderersForRelief } from './renderer-relief';
export type { RendererReliefOptions, RendererReliefReport } from './renderer-relief';
export { RELIEF_CHANNEL, RELIEF_REPLY_CHANNEL } from './relief-channels';
export type { IpcArguments, ReliefReply, ReliefRequest } from './relief-channels';
export { cacheBytes, exposeCacheRelief } from './preload';
export type { CacheReliefElectron, CacheReliefOptions } from './preload';

/**
 * The Electron plugins: the `electron` source and the `electron-cache` and `electron-windows`
 * actions. Config names them after loading the package (`plugins: ['@memshed/electron']`).
 *
 * Each takes the Electron objects the application bound with {@link electronEnvironmentModule},
 * else Electron's own when running inside it. Outside Electron the source reports itself
 * unavailable (see `memshed doctor`), and creating an action throws a MemshedError `unavailable`
 * that names what to pass.
 */
const electronModule = definePlugin(
  {
    kind: 'source',
    id: 'electron',
    description:
      "Electron's own memory figures: RAM in use (getSystemMemoryInfo) and the app's working sets (getAppMetrics), for platforms without kernel signals",
    optionsSchema: electronSourceOptionsSchema,
    create: (options, services) =>
      new ElectronSource(
        options,
        services.find<ElectronEnvironment>(ElectronEnvironment) ?? runtimeElectronEnvironment(),
      ),
  },
  {
    kind: 'action',
    id: 'electron-cache',
    description:
      "Clear every session's HTTP cache and ask renderers to drop Blink's caches (webFrame.clearCache)",
    optionsSchema: electronCacheOptionsSchema,
    create: (options, services) => {
      const needs = [
        ...(options.sessions ? (['session'] as const) : []),
        ...(options.renderers ? (['webContents', 'ipcMain'] as const) : []),
      ];
      const bound = services.find<ElectronEnvironment>(ElectronEnvironment);
      return new ElectronCacheAction(options, requireEnvironment(bound, 'electron-cache', needs));
    },
  },
  {
    kind: 'action',
    id: 'electron-windows',
    description: "Close or reload background windows, largest first, as the app's window policy allows",
    optionsSchema: electronWindowsOptionsSchema,
    create: (options, services) => {
      const bound = services.find<ElectronEnvironment>(ElectronEnvironment);
      return new ElectronWindowsAction(
        options,
        requireEnvironment(bound, 'electron-windows', ['BrowserWindow']),
      );
    },
  },
);

export default electronModule;
export { electronModule };
