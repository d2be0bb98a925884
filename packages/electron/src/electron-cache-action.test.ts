import { ActionRunner, MemshedError, loadPlugins, type ActionRunRecord } from '@memshed/core';
import { ManualScheduler, createActionContext, validOptions } from '@memshed/core/testing';
import {
  ElectronCacheAction,
  electronCacheOptionsSchema,
  type ElectronCacheOptionsInput,
} from './electron-cache-action';
import { electronEnvironmentModule } from './electron-environment';
import electronModule from './index';
import { FakeElectron, FakeSession, ipcTurns } from './testing';

const MiB = 1024 * 1024;

const options = (input: ElectronCacheOptionsInput = {}) => validOptions(electronCacheOptionsSchema, input);

describe(ElectronCacheAction, () => {
  let electron: FakeElectron;
  let scheduler: ManualScheduler;
  let runner: ActionRunner;
  let errors: MemshedError[];

  beforeEach(() => {
    electron = new FakeElectron();
    scheduler = new ManualScheduler();
    errors = [];
    runner = new ActionRunner({ scheduler, onError: (error) => errors.push(error) });
  });

  afterEach(() => runner.dispose());

  describe('.run', () => {
    it("clears each session's HTTP cache once and gathers what the renderers with the preload helper dropped", async () => {
      const partition = new FakeSession();
      const main = electron.renderer(101).withPreload(40 * MiB, 4 * MiB);
      const second = electron.renderer(102).withPreload(10 * MiB);
      const inPartition = electron.renderer(103, partition).withPreload(6 * MiB);
      const withoutHelper = electron.renderer(104);
      const action = new ElectronCacheAction(options({ rendererTimeout: '1s' }), electron.environment());

      const pending = runner.run(action, { level: 'critical' });
      await ipcTurns();
      // Three renderers answered; the fourth has no helper and never will: the wait ends on the timeout.
      expect(scheduler.pending).toBeGreaterThan(0);
      scheduler.advanceBy(1000);
      const record: ActionRunRecord = await pending;

      expect({ defaultClears: electron.defaultSession.clears, partitionClears: partition.clears }).toEqual({
        defaultClears: 1,
        partitionClears: 1,
      });
      expect([main, second, inPartition].map((c) => c.renderer?.webFrame.clears)).toEqual([1, 1, 1]);
      expect(withoutHelper.renderer).toBeUndefined();
      expect(record).toMatchObject({
        status: 'ok',
        freedBytes: 36 * MiB + 10 * MiB + 6 * MiB,
        estimated: true,
        summary: 'cleared the HTTP cache of 2 sessions; 3 of 4 renderers dropped their caches (52 MiB)',
        details: {
          sessions: { cleared: 2, failed: 0 },
          renderers: { asked: 4, answered: 3, incomplete: true },
        },
      });
      expect(record.finishedAt - record.startedAt).toBe(1000);
    });

    it('ends the wait as soon as every renderer answered, and ignores forged or stray answers', async () => {
      const renderer = electron.renderer(101).withPreload(8 * MiB);
      const action = new ElectronCacheAction(options(), electron.environment());
      const pending = action.run(createActionContext({ level: 'medium', logger: console }));
      // Another webContents, never asked, and a malformed reply: both ignored.
      electron.ipcMain.emit(
        'memshed:relief-done',
        { sender: { id: 9999 } },
        { id: 1, before: 1e12, after: 0 },
      );
      electron.ipcMain.emit('memshed:relief-done', { sender: renderer }, { id: 'x', before: -1, after: 0 });
      await ipcTurns();
      const result = await pending;
      expect(result).toMatchObject({
        freedBytes: 8 * MiB,
        details: { renderers: { asked: 1, answered: 1, incomplete: false } },
      });
      expect(electron.ipcMain.listenerCount('memshed:relief-done')).toBe(0);
    });

    it('skips destroyed and crashed renderers and works without any renderer', async () => {
      const destroyed = electron.renderer(101).withPreload(8 * MiB);
      destroyed.destroyed = true;
      const crashed = electron.renderer(102).withPreload(8 * MiB);
      crashed.crashed = true;
      const result = await runner.run(new ElectronCacheAction(options(), electron.environment()), {
        level: 'low',
      });
      expect(result).toMatchObject({
        status: 'ok',
        summary: 'cleared the HTTP cache of 1 session',
        details: { sessions: { cleared: 1, failed: 0 } },
      });
      expect(result.freedBytes).toBeUndefined();
      expect(crashed.renderer?.webFrame.clears).toBe(0);
    });

    it('reports a session that fails to clear, and clears the others', async () => {
      const broken = new FakeSession();
      broken.failure = new Error('cache backend gone');
      electron.renderer(101, broken);
      const action = new ElectronCacheAction(options({ renderers: false }), electron.environment());
      const record = await runner.run(action, { level: 'critical' });
      expect(record).toMatchObject({ status: 'ok', details: { sessions: { cleared: 1, failed: 1 } } });
      expect(record.errors.map((e) => e.message)).toEqual([
        'session.clearCache() failed: cache backend gone',
      ]);
      expect(errors).toHaveLength(1);
    });

    it('touches nothing in a dry run', async () => {
      const renderer = electron.renderer(101).withPreload(8 * MiB);
      const record = await runner.run(new ElectronCacheAction(options(), electron.environment()), {
        level: 'critical',
        dryRun: true,
      });
      await ipcTurns();
      expect(record.summary).toBe(
        'would clear the HTTP cache of 1 session and ask 1 renderer to drop their caches',
      );
      expect({ session: electron.defaultSession.clears, frame: renderer.renderer?.webFrame.clears }).toEqual({
        session: 0,
        frame: 0,
      });
    });

    it('stops waiting for renderers when cancelled', async () => {
      electron.renderer(101); // no helper: would wait for the timeout
      const controller = new AbortController();
      const pending = runner.run(
        new ElectronCacheAction(options({ rendererTimeout: '1m' }), electron.environment()),
        {
          level: 'critical',
          signal: controller.signal,
        },
      );
      controller.abort();
      expect((await pending).status).toBe('cancelled');
    });
  });
});

describe('the electron-cache plugin', () => {
  it('is bound by the module under the id electron-cache, and needs the Electron objects', () => {
    const electron = new FakeElectron();
    const { actions } = loadPlugins([electronModule, electronEnvironmentModule(electron.environment())]);
    expect(actions.map((a) => a.id)).toEqual(['electron-cache', 'electron-windows']);
    expect(actions[0].create(options())).toBeInstanceOf(ElectronCacheAction);

    // Outside Electron and without an environment, creating the action says what to pass.
    const bare = loadPlugins([electronModule]).actions[0];
    let failure: unknown;
    try {
      bare.create(options());
    } catch (error) {
      failure = error;
    }
    expect(MemshedError.is(failure, 'unavailable')).toBe(true);
    expect((failure as Error).message).toMatch(
      /runs in an Electron main process, and this is not one\. Fix: load electronEnvironmentModule\(\{ session, webContents, ipcMain \}\)/,
    );
    const partial = loadPlugins([
      electronModule,
      electronEnvironmentModule({ session: electron.environment().session }),
    ]);
    expect(() => partial.actions[0].create(options())).toThrow(
      /needs Electron's webContents, ipcMain, which the application did not pass/,
    );
  });
});
