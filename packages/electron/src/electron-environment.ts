import { MemshedError, type PressureState } from '@memshed/core';
import type { App, BrowserWindow, Session, SystemMemoryInfo, WebContents } from 'electron';
import { ContainerModule } from '@memshed/core/inversify';
import type { IpcArguments } from './relief-channels';

/** The part of an Electron `Session` memshed uses. */
export type ElectronSession = Pick<Session, 'clearCache'>;

/** The part of an Electron `WebContents` memshed uses. */
export interface ElectronWebContents extends Pick<
  WebContents,
  'id' | 'send' | 'isDestroyed' | 'isCrashed' | 'isLoading' | 'getOSProcessId' | 'reload'
> {
  readonly session: ElectronSession;
}

/** The part of an Electron `BrowserWindow` memshed uses. */
export interface ElectronWindow extends Pick<
  BrowserWindow,
  'id' | 'isDestroyed' | 'isVisible' | 'isMinimized' | 'isFocused' | 'close' | 'getTitle'
> {
  readonly webContents: ElectronWebContents;
}

/** The part of Electron's `ipcMain` memshed uses: the replies of renderers. */
export interface ElectronIpcMain {
  on(
    channel: string,
    listener: (event: { readonly sender: { readonly id: number } }, ...args: IpcArguments) => void,
  ): unknown;
  removeListener(channel: string, listener: (...args: IpcArguments) => void): unknown;
}

/** What a {@link WindowPolicy} decides for one background window. `undefined`: the action's default. */
export type WindowDecision = 'close' | 'reload' | 'keep' | undefined;

/**
 * The application's say on each background window the `electron-windows` action considers: keep
 * a window with unsaved work, close a detached tool window rather than reload it, and so on.
 */
export type WindowPolicy = (
  window: ElectronWindow,
  context: { readonly level: PressureState; readonly action: 'close' | 'reload' },
) => WindowDecision;

/** Extension point: the Electron objects memshed's Electron plugins use, injected by the application. */
export const ElectronEnvironment = Symbol('ElectronEnvironment');

/**
 * The Electron objects memshed's Electron plugins use, passed in by the main process (nothing is
 * required from `electron` at module load, so the package loads in plain Node and in tests). Each
 * part is optional; a plugin that needs a missing part says which.
 *
 * @example
 * import { app, BrowserWindow, ipcMain, session, webContents } from 'electron';
 * const environment: ElectronEnvironment = { app, BrowserWindow, ipcMain, session, webContents, process };
 */
export interface ElectronEnvironment {
  /** `app`: `getAppMetrics()` for the `electron` source and the window action's estimates. */
  readonly app?: Pick<App, 'getAppMetrics'>;
  /** Electron's `process`: `getSystemMemoryInfo()` for the `electron` source. */
  readonly process?: { getSystemMemoryInfo(): SystemMemoryInfo };
  /** `session`: the default session, whose HTTP cache the `electron-cache` action clears. */
  readonly session?: { readonly defaultSession: ElectronSession };
  /** `webContents`: every renderer, for their sessions and the renderer cache relief. */
  readonly webContents?: { getAllWebContents(): ElectronWebContents[] };
  /** `BrowserWindow`: every window, for the `electron-windows` action. */
  readonly BrowserWindow?: { getAllWindows(): ElectronWindow[] };
  /** `ipcMain`: the renderers' answers to the cache relief. */
  readonly ipcMain?: ElectronIpcMain;
  /** The application's policy for background windows. */
  readonly windowPolicy?: WindowPolicy;
}

/**
 * Binds the Electron objects for memshed's Electron plugins; load it beside the plugin module.
 *
 * @example
 * const memshed = await createMemshedFromConfig({
 *   modules: [...builtinModules(), electronModule, electronEnvironmentModule({ app, session, ... })],
 * });
 */
export function electronEnvironmentModule(environment: ElectronEnvironment): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<ElectronEnvironment>(ElectronEnvironment).toConstantValue(environment);
  });
}

/**
 * The Electron objects of the running Electron main process, loaded on demand (never at module
 * load), or undefined outside an Electron main process. The plugins fall back to it when the
 * application bound no {@link ElectronEnvironment}.
 */
export function runtimeElectronEnvironment(): ElectronEnvironment | undefined {
  const versions = process.versions as NodeJS.ProcessVersions & { electron?: string };
  if (!versions.electron || (process as { type?: string }).type !== 'browser') return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const electron = require('electron') as typeof import('electron');
  return {
    app: electron.app,
    process: process as unknown as { getSystemMemoryInfo(): SystemMemoryInfo },
    session: electron.session,
    webContents: electron.webContents,
    BrowserWindow: electron.BrowserWindow,
    ipcMain: electron.ipcMain,
  };
}

/**
 * The environment a plugin works with: the bound one, else the running Electron's.
 *
 * @throws MemshedError `unavailable` when neither gives the parts `needs` names.
 */
export function requireEnvironment(
  bound: ElectronEnvironment | undefined,
  plugin: string,
  needs: readonly (keyof ElectronEnvironment)[],
): ElectronEnvironment {
  const environment = bound ?? runtimeElectronEnvironment();
  const missing = needs.filter((part) => environment?.[part] === undefined);
  if (environment && missing.length === 0) return environment;
  throw new MemshedError(
    'unavailable',
    environment
      ? `The '${plugin}' plugin needs Electron's ${missing.join(', ')}, which the application did not pass`
      : `The '${plugin}' plugin runs in an Electron main process, and this is not one`,
    {
      fix: `load electronEnvironmentModule({ ${needs.join(', ')} }) beside the @memshed/electron module`,
      context: { plugin, missing },
    },
  );
}
