import type { ActionRunRecord, PressureState } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import type { ConfiguredMemshed } from '@memshed/config';
import { FakeElectron, ipcTurns } from '@memshed/electron/testing';
import { startMemshed } from './memshed-setup';

const MiB = 1024 * 1024;
const GiB_KB = 1024 * 1024;

describe('electron-app main process (with stand-ins of the Electron objects)', () => {
  let memshed: ConfiguredMemshed | undefined;

  afterEach(async () => {
    await memshed?.stop();
    memshed = undefined;
  });

  it('relieves renderers at medium, closes the hidden worker window at critical, keeps the main window, recovers', async () => {
    const electron = new FakeElectron();
    const main = electron.window('main', 201, 200 * MiB);
    main.focused = true;
    const worker = electron.window('worker', 202, 300 * MiB);
    worker.visible = false;
    const settings = electron.window('settings', 203, 80 * MiB);
    for (const window of electron.windows) window.webContents.withPreload(20 * MiB);
    const used = (fraction: number) => {
      electron.memory = { total: 16 * GiB_KB, free: Math.round(16 * GiB_KB * (1 - fraction)) } as never;
    };
    used(0.5);

    const scheduler = new ManualScheduler(0);
    memshed = await startMemshed(electron.environment(), { keep: () => [main.id], scheduler });
    expect(memshed.sources.map((s) => `${s.id}:${s.state}`)).toEqual(['electron:running']);
    const states: PressureState[] = [];
    const actions: ActionRunRecord[] = [];
    memshed.level$.subscribe((state) => states.push(state));
    memshed.actions$.subscribe((record) => actions.push(record));

    used(0.8);
    scheduler.advanceBy(1000);
    await ipcTurns(5);
    expect(states).toEqual(['normal', 'medium']);
    expect(actions.map((r) => `${r.policy}/${r.action}:${r.status}`)).toEqual([
      'relieve-renderers/electron-cache:ok',
    ]);
    expect(actions[0]).toMatchObject({ freedBytes: 60 * MiB, estimated: true });
    expect(electron.defaultSession.clears).toBe(1);

    used(0.9);
    scheduler.advanceBy(1000);
    await ipcTurns(5);
    expect(states).toEqual(['normal', 'medium', 'critical']);
    // relieve-renderers keeps up too (no cooldown): the critical signal is a new one after its run.
    expect(
      actions
        .slice(1)
        .map((r) => `${r.policy}/${r.action}:${r.status}`)
        .sort(),
    ).toEqual([
      'relieve-renderers/electron-cache:ok',
      'shed-background-windows/electron-windows:ok',
      'shed-background-windows/gc:ok',
    ]);
    expect({ main: main.closed, worker: worker.closed, settings: settings.closed }).toEqual({
      main: false,
      worker: true,
      settings: false,
    });
    expect(actions.find((r) => r.action === 'electron-windows')).toMatchObject({
      freedBytes: 300 * MiB,
      estimated: true,
    });

    used(0.4);
    scheduler.advanceBy(20_000);
    expect(states.slice(-1)).toEqual(['normal']);
  });
});
