import { createMemshed, type PressureEvent, type PressureState } from '@memshed/core';
import { ManualScheduler, firstIssuePath, validOptions } from '@memshed/core/testing';
import {
  ElectronSource,
  electronSourceOptionsSchema,
  type ElectronSourceOptionsInput,
} from './electron-source';
import { FakeElectron } from './testing';

const GiB_KB = 1024 * 1024;
const MiB = 1024 * 1024;

const options = (input: ElectronSourceOptionsInput = {}) => validOptions(electronSourceOptionsSchema, input);

describe(ElectronSource, () => {
  describe('.availability', () => {
    it('is unavailable outside Electron, with the source to use instead', () => {
      expect(new ElectronSource(options(), undefined).availability()).toEqual({
        available: false,
        reason: 'not running in an Electron main process',
        hint: 'use it in an Electron main process; elsewhere use the system source',
      });
    });

    it('names the Electron objects the application did not pass', () => {
      const source = new ElectronSource(options({ app: { limit: '2GiB' } }), {});
      expect(source.availability()).toMatchObject({
        available: false,
        reason: "Electron's process.getSystemMemoryInfo() and app.getAppMetrics() were not passed to memshed",
      });
    });
  });

  describe('.read', () => {
    it("uses MemAvailable where Electron has it (Linux), free elsewhere, and the app's working sets", () => {
      const electron = new FakeElectron();
      electron.memory = { total: 8 * GiB_KB, free: 1 * GiB_KB, available: 4 * GiB_KB } as never;
      electron.workingSets.set(1001, 900 * MiB);
      const source = new ElectronSource(options({ app: { limit: '1GiB' } }), electron.environment());
      expect(source.read()).toEqual({
        system: { used: 4 * GiB_KB * 1024, total: 8 * GiB_KB * 1024, level: undefined },
        app: { used: 1020 * MiB, limit: 1024 * MiB, level: 'critical' },
      });
      electron.memory = { total: 8 * GiB_KB, free: 1.5 * GiB_KB } as never; // macOS, Windows
      expect(source.read().system).toMatchObject({ used: 6.5 * GiB_KB * 1024, level: 'medium' });
    });
  });

  describe('.start', () => {
    it('polls on the scheduler and signals rises at once and held levels every `repeat`', async () => {
      const electron = new FakeElectron();
      const scheduler = new ManualScheduler();
      const source = new ElectronSource(
        options({ interval: '500ms', repeat: '2s', system: { low: '60%' } }),
        electron.environment(),
      );
      const memshed = await createMemshed({ sources: [source], scheduler, recovery: { quiet: 5000 } });
      const events: PressureEvent[] = [];
      const states: PressureState[] = [];
      memshed.events$.subscribe((event) => events.push(event));
      memshed.level$.subscribe((state) => states.push(state));
      const used = (fraction: number) => {
        electron.memory = { total: 8 * GiB_KB, free: Math.round(8 * GiB_KB * (1 - fraction)) } as never;
      };

      used(0.5);
      scheduler.advanceBy(1000);
      used(0.65);
      scheduler.advanceBy(500); // low
      used(0.8);
      scheduler.advanceBy(500); // medium, at once
      scheduler.advanceBy(1500); // still medium: no repeat yet
      scheduler.advanceBy(500); // 2 s after the last signal: repeated
      used(0.9);
      scheduler.advanceBy(500); // critical
      used(0.3);
      scheduler.advanceBy(20_000); // quiet: steps down to normal

      expect(events.map((e) => `${e.time}:${e.level}@${e.scope}`)).toEqual([
        '1500:low@/electron/system',
        '2000:medium@/electron/system',
        '4000:medium@/electron/system',
        '4500:critical@/electron/system',
      ]);
      expect(states).toEqual(['normal', 'low', 'medium', 'critical', 'medium', 'low', 'normal']);
      await memshed.stop();
      expect(scheduler.pending).toBe(0);
    });

    it('reports a failed reading on errors$ and keeps polling', async () => {
      const electron = new FakeElectron();
      const scheduler = new ManualScheduler();
      let fail = true;
      const environment = electron.environment({
        process: {
          getSystemMemoryInfo: () => {
            if (fail) throw new Error('sysctl failed');
            return { total: 8 * GiB_KB, free: 0.5 * GiB_KB } as never;
          },
        },
      });
      const source = new ElectronSource(options(), environment);
      const memshed = await createMemshed({ sources: [source], scheduler });
      const errors: string[] = [];
      memshed.errors$.subscribe((error) => errors.push(error.message));
      scheduler.advanceBy(1000);
      fail = false;
      scheduler.advanceBy(1000);
      expect(errors).toEqual(['The electron source failed to read memory: sysctl failed']);
      expect(memshed.monitor.state).toBe('critical');
      await memshed.stop();
    });
  });
});

describe('electronSourceOptionsSchema', () => {
  it.each([
    [{ interval: 0 }, 'interval'],
    [{ system: { medium: '120%' } }, 'system.medium'],
    [{ app: {} }, 'app.limit'],
    [{ app: { limit: '50%' } }, 'app.limit'],
    [{ extra: true }, ''],
  ])('refuses %j at %p', (input, path) => {
    expect(firstIssuePath(electronSourceOptionsSchema, input)).toBe(path);
  });
});
