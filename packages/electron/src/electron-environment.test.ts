import { MemshedError } from '@memshed/core';
import {
  electronEnvironmentModule,
  requireEnvironment,
  runtimeElectronEnvironment,
  type ElectronEnvironment,
} from './electron-environment';

/**
 * Compile-time check (run by `tsc -p tsconfig.check.json`): the real Electron main-process objects
 * fit the environment, so the stand-ins of the tests and Electron agree on every member used.
 */
export function realElectronFits(electron: typeof import('electron')): ElectronEnvironment {
  return {
    app: electron.app,
    process,
    session: electron.session,
    webContents: electron.webContents,
    BrowserWindow: electron.BrowserWindow,
    ipcMain: electron.ipcMain,
    windowPolicy: (window) => (window.isFocused() ? 'keep' : undefined),
  };
}

describe(runtimeElectronEnvironment, () => {
  it('is undefined in plain Node: electron is never required here', () => {
    expect(runtimeElectronEnvironment()).toBeUndefined();
    expect(Object.keys(require.cache).some((path) => /node_modules\/electron\//.test(path))).toBe(false);
  });
});

describe(requireEnvironment, () => {
  it('returns the bound environment when it has the parts needed', () => {
    const environment: ElectronEnvironment = { BrowserWindow: { getAllWindows: () => [] } };
    expect(requireEnvironment(environment, 'electron-windows', ['BrowserWindow'])).toBe(environment);
  });

  it('names the missing parts and the module to load', () => {
    let failure: unknown;
    try {
      requireEnvironment({}, 'electron-windows', ['BrowserWindow']);
    } catch (error) {
      failure = error;
    }
    expect(MemshedError.is(failure, 'unavailable')).toBe(true);
    expect((failure as MemshedError).context).toEqual({
      plugin: 'electron-windows',
      missing: ['BrowserWindow'],
    });
  });
});

describe(electronEnvironmentModule, () => {
  it('is a container module (loadable beside the plugin module)', () => {
    expect(typeof electronEnvironmentModule({}).load).toBe('function');
  });
});
