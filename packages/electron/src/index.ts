/**
 * @memshed/electron: memshed in an Electron main process. A source from Electron's own memory
 * figures (`electron`), an action that clears session HTTP caches and renderer caches
 * (`electron-cache`), an action that closes or reloads background windows (`electron-windows`), and
 * the preload helper of the renderer half (`@memshed/electron/preload`).
 *
 * Nothing is required from `electron` at load: pass the Electron objects with
 * {@link electronEnvironmentModule} (or let the plugins find them when running inside Electron).
 */
import { PressureSourceFactory, SheddingActionFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { ElectronCacheFactory, ElectronSourceFactory, ElectronWindowsFactory } from './electron-factories';

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
export { ElectronCacheFactory, ElectronSourceFactory, ElectronWindowsFactory } from './electron-factories';
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
 */
const electronModule = new ContainerModule(({ bind }) => {
  bind(ElectronSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(ElectronSourceFactory);
  bind(ElectronCacheFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(ElectronCacheFactory);
  bind(ElectronWindowsFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(ElectronWindowsFactory);
});

export default electronModule;
export { electronModule };
