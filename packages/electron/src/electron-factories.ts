import { PressureSourceFactory, SheddingActionFactory } from '@memshed/core';
import { inject, injectable, optional } from '@memshed/core/inversify';
import {
  ElectronCacheAction,
  electronCacheOptionsSchema,
  type ElectronCacheOptions,
} from './electron-cache-action';
import { ElectronEnvironment, requireEnvironment, runtimeElectronEnvironment } from './electron-environment';
import { ElectronSource, electronSourceOptionsSchema, type ElectronSourceOptions } from './electron-source';
import {
  ElectronWindowsAction,
  electronWindowsOptionsSchema,
  type ElectronWindowsOptions,
} from './electron-windows-action';

/** Creates `electron` sources. Outside Electron they report themselves unavailable (see `memshed doctor`). */
@injectable()
export class ElectronSourceFactory implements PressureSourceFactory<ElectronSourceOptions> {
  readonly id = 'electron';
  readonly description =
    "Electron's own memory figures: RAM in use (getSystemMemoryInfo) and the app's working sets (getAppMetrics), for platforms without kernel signals";
  readonly optionsSchema = electronSourceOptionsSchema;

  constructor(@inject(ElectronEnvironment) @optional() private readonly environment?: ElectronEnvironment) {}

  create(options: ElectronSourceOptions): ElectronSource {
    return new ElectronSource(options, this.environment ?? runtimeElectronEnvironment());
  }
}

/** Creates `electron-cache` actions. */
@injectable()
export class ElectronCacheFactory implements SheddingActionFactory<ElectronCacheOptions> {
  readonly id = 'electron-cache';
  readonly description =
    "Clear every session's HTTP cache and ask renderers to drop Blink's caches (webFrame.clearCache)";
  readonly optionsSchema = electronCacheOptionsSchema;

  constructor(@inject(ElectronEnvironment) @optional() private readonly environment?: ElectronEnvironment) {}

  /** @throws MemshedError `unavailable` when the Electron objects it needs were not passed. */
  create(options: ElectronCacheOptions): ElectronCacheAction {
    const needs = [
      ...(options.sessions ? (['session'] as const) : []),
      ...(options.renderers ? (['webContents', 'ipcMain'] as const) : []),
    ];
    return new ElectronCacheAction(options, requireEnvironment(this.environment, this.id, needs));
  }
}

/** Creates `electron-windows` actions. */
@injectable()
export class ElectronWindowsFactory implements SheddingActionFactory<ElectronWindowsOptions> {
  readonly id = 'electron-windows';
  readonly description =
    "Close or reload background windows, largest first, as the app's window policy allows";
  readonly optionsSchema = electronWindowsOptionsSchema;

  constructor(@inject(ElectronEnvironment) @optional() private readonly environment?: ElectronEnvironment) {}

  /** @throws MemshedError `unavailable` when `BrowserWindow` was not passed. */
  create(options: ElectronWindowsOptions): ElectronWindowsAction {
    return new ElectronWindowsAction(
      options,
      requireEnvironment(this.environment, this.id, ['BrowserWindow']),
    );
  }
}
