import { ActionRunner, type ActionRunRecord } from '@memshed/core';
import { ManualScheduler, validOptions } from '@memshed/core/testing';
import {
  ElectronWindowsAction,
  electronWindowsOptionsSchema,
  type ElectronWindowsOptionsInput,
  type WindowOutcome,
} from './electron-windows-action';
import type { WindowPolicy } from './electron-environment';
import { FakeElectron } from './testing';

const MiB = 1024 * 1024;

const options = (input: ElectronWindowsOptionsInput = {}) =>
  validOptions(electronWindowsOptionsSchema, input);

function outcomes(record: ActionRunRecord) {
  return (record.details?.windows as WindowOutcome[]).map((w) => `${w.title}:${w.done}`);
}

describe(ElectronWindowsAction, () => {
  let electron: FakeElectron;
  let runner: ActionRunner;

  beforeEach(() => {
    electron = new FakeElectron();
    runner = new ActionRunner({ scheduler: new ManualScheduler() });
    const main = electron.window('main', 201, 300 * MiB);
    main.focused = true;
    electron.window('editor', 202, 250 * MiB); // visible, not focused
    electron.window('chart', 203, 180 * MiB).minimized = true;
    electron.window('settings', 204, 40 * MiB).visible = false;
    electron.window('log', 205, 90 * MiB).visible = false;
  });

  afterEach(() => runner.dispose());

  describe('.run', () => {
    it('reloads minimized and hidden windows by default, largest renderer first, never the focused one', async () => {
      const record = await runner.run(new ElectronWindowsAction(options(), electron.environment()), {
        level: 'critical',
      });
      expect(outcomes(record)).toEqual(['chart:reloaded', 'log:reloaded', 'settings:reloaded']);
      expect(electron.windows.map((w) => w.webContents.reloads)).toEqual([0, 0, 1, 1, 1]);
      expect(record.freedBytes).toBeUndefined();
      expect(record.summary).toBe('closed 0 and reloaded 3 background window(s)');
    });

    it('closes hidden windows at most `max`, reporting their working sets as an estimate', async () => {
      const record = await runner.run(
        new ElectronWindowsAction(
          options({ action: 'close', background: 'hidden', max: 1 }),
          electron.environment(),
        ),
        { level: 'critical' },
      );
      expect(outcomes(record)).toEqual(['log:closed']);
      expect(electron.windows.filter((w) => w.closed).map((w) => w.getTitle())).toEqual(['log']);
      expect(record).toMatchObject({
        freedBytes: 90 * MiB,
        estimated: true,
        summary: 'closed 1 and reloaded 0 background window(s) (~90 MiB)',
      });
    });

    it("follows the application's window policy: keep, close or the default", async () => {
      const policy: WindowPolicy = (window, { level, action }) => {
        expect({ level, action }).toEqual({ level: 'medium', action: 'reload' });
        if (window.getTitle() === 'editor') return 'keep'; // unsaved work
        if (window.getTitle() === 'log') return 'close';
        return undefined;
      };
      const record = await runner.run(
        new ElectronWindowsAction(
          options({ background: 'unfocused' }),
          electron.environment({ windowPolicy: policy }),
        ),
        { level: 'medium' },
      );
      expect(outcomes(record)).toEqual(['editor:kept', 'chart:reloaded', 'log:closed', 'settings:reloaded']);
    });

    it('keeps the last open window, and windows still loading', async () => {
      const single = new FakeElectron();
      single.window('only', 301, 100 * MiB).minimized = true;
      const loading = single.window('loading', 302, 500 * MiB);
      loading.visible = false;
      loading.webContents.loading = true;
      const close = new ElectronWindowsAction(options({ action: 'close' }), single.environment());
      let record = await runner.run(close, { level: 'critical' });
      expect(outcomes(record)).toEqual(['only:closed']);
      record = await runner.run(close, { level: 'critical' });
      // 'loading' is still open, but still loading; nothing else is left to close.
      expect(record.summary).toBe('no background window to shed (1 open)');
      loading.webContents.loading = false;
      record = await runner.run(close, { level: 'critical' });
      expect(outcomes(record)).toEqual(['loading:kept']);
    });

    it('touches nothing in a dry run, and says what it would do', async () => {
      const record = await runner.run(
        new ElectronWindowsAction(options({ action: 'close' }), electron.environment()),
        {
          level: 'critical',
          dryRun: true,
        },
      );
      expect(record.summary).toBe(
        'would have closed 3 and would have reloaded 0 background window(s) (~310 MiB)',
      );
      expect(electron.windows.some((w) => w.closed)).toBe(false);
    });
  });
});
