/**
 * The Electron main process: a main window, a hidden worker window and a settings window; memshed
 * watches memory and sheds by the policy in .memshedrc.yaml. Run it on a desktop: see README.md.
 */
import { join } from 'node:path';
import { consoleLogger } from '@memshed/core';
import { BrowserWindow, app, ipcMain, session, webContents } from 'electron';
import { startMemshed } from './memshed-setup';

const preload = join(__dirname, 'preload.js');
const page = (name: string) => join(__dirname, '..', 'static', `${name}.html`);

async function createWindow(name: string, options: { show: boolean }): Promise<BrowserWindow> {
  const window = new BrowserWindow({
    width: 640,
    height: 420,
    title: name,
    show: options.show,
    // The preload requires @memshed/electron/preload from node_modules: a sandboxed preload
    // would need it bundled (see README.md).
    webPreferences: { preload, sandbox: false, contextIsolation: true },
  });
  await window.loadFile(page('index'), { query: { name } });
  return window;
}

async function main(): Promise<void> {
  await app.whenReady();
  // Windows still loading are never shed: start watching once they are up.
  const [mainWindow] = await Promise.all([
    createWindow('main', { show: true }),
    createWindow('worker', { show: false }),
    createWindow('settings', { show: true }),
  ]);

  // #region main
  const memshed = await startMemshed(
    { app, process, session, webContents, BrowserWindow, ipcMain },
    { keep: () => [mainWindow.id], logger: consoleLogger('info') },
  );
  memshed.level$.subscribe((state) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send('memshed:state', state);
  });
  app.on('before-quit', () => void memshed.stop({ grace: 1000 }));
  // #endregion main

  app.on('window-all-closed', () => app.quit());
}

main().catch((error: unknown) => {
  console.error(error);
  app.exit(1);
});
