import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemshedFromConfig, loadConfig, type ConfiguredMemshed } from '@memshed/config';
import { type ActionRunRecord } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { BufferPool, BufferPools } from './buffer-pool';
import { EventLoopDelaySource } from './event-loop-delay-source';

const EXAMPLE_DIR = join(__dirname, '..');
const KiB = 1024;

/** Keeps the event loop busy for `ms`: the stall the source is there to see. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

describe('the custom plugin, loaded by config by package name', () => {
  let memshed: ConfiguredMemshed | undefined;

  afterEach(async () => {
    await memshed?.stop();
    memshed = undefined;
  });

  it('is found by its package name and its ids are known to the config', async () => {
    const loaded = await loadConfig({ config: '.memshedrc.yaml', cwd: EXAMPLE_DIR });
    expect(
      loaded.plugins
        .filter((p) => p.origin === '@memshed/example-custom-plugin')
        .map((p) => `${p.kind}:${p.id}`),
    ).toEqual(['source:event-loop-delay', 'action:buffer-pool']);
    expect(loaded.policies.map((p) => `${p.name}: ${p.do.map((a) => a.use).join(', ')}`)).toEqual([
      'give-back-buffers: buffer-pool',
      'drop-every-buffer: buffer-pool',
    ]);
  });

  it('turns an event-loop stall into pressure, and the policy gives the pooled buffers back', async () => {
    const scheduler = new ManualScheduler(Date.now());
    memshed = await createMemshedFromConfig({ config: '.memshedrc.yaml', cwd: EXAMPLE_DIR, scheduler });
    const records: ActionRunRecord[] = [];
    memshed.actions$.subscribe((record) => records.push(record));
    const pool = new BufferPool(64 * KiB, 16);
    memshed.container.get(BufferPools).register('parser-scratch', pool);
    const held = Array.from({ length: 12 }, () => pool.acquire());
    for (const buffer of held) pool.release(buffer);
    expect(pool.freeCount).toBe(12);

    await sleep(20); // the histogram samples from the loop's next turn on
    stall(250);
    await sleep(30); // let the histogram record the stall (its timer runs after the loop frees up)
    scheduler.advanceBy(1000); // the source's poll, in virtual time
    await sleep(0); // the action runs asynchronously

    const source = memshed.sources.find((s) => s.id === 'event-loop-delay');
    expect(source?.state).toBe('running');
    expect(['medium', 'critical']).toContain(memshed.monitor.state);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'buffer-pool', status: 'ok', estimated: true });
    // medium keeps a quarter (3 of 12), critical none: either way most of the pool went back.
    expect(pool.freeCount).toBeLessThanOrEqual(3);
    expect(records[0].freedBytes).toBe((12 - pool.freeCount) * 64 * KiB);
  });
});

describe(EventLoopDelaySource, () => {
  describe('.levelFor', () => {
    it('maps a delay to the highest threshold it reaches', () => {
      const source = new EventLoopDelaySource({
        scope: '/event-loop',
        low: 50,
        medium: 100,
        critical: 500,
        percentile: 99,
        interval: 1000,
        resolution: 10,
      });
      expect([10, 50, 99, 100, 499, 500, 5000].map((ms) => source.levelFor(ms))).toEqual([
        undefined,
        'low',
        'low',
        'medium',
        'medium',
        'critical',
        'critical',
      ]);
    });
  });
});
