import { createEngine } from './engine';
import { LevelGate } from './level-gate';
import { collectEvents, ManualScheduler } from './testing';

describe(LevelGate, () => {
  it('signals on a rise at once, repeats while the level holds, and re-arms below every threshold', () => {
    const scheduler = new ManualScheduler();
    const engine = createEngine({ scheduler });
    const events = collectEvents(engine);
    const gate = new LevelGate(engine.node('/headroom', 'test'), scheduler, 1000);
    const at = (ms: number, level: 'low' | 'medium' | 'critical' | undefined) => {
      scheduler.advanceTo(ms);
      gate.offer(level);
      scheduler.flush();
    };
    at(0, 'medium'); // rise: signalled
    at(100, 'medium'); // holds, within repeat: quiet
    at(200, 'critical'); // rise: signalled
    at(1100, 'critical'); // holds, within repeat of 200: quiet
    at(1200, 'critical'); // repeat
    at(1300, 'low'); // lower, within repeat: quiet
    at(1400, undefined); // below every threshold: re-arms
    at(1500, 'low'); // rise from nothing: signalled
    expect(events.map((e) => [e.time, e.level])).toEqual([
      [0, 'medium'],
      [200, 'critical'],
      [1200, 'critical'],
      [1500, 'low'],
    ]);
  });

  it('carries the reason of the highest level signalled in a turn on the event, and says whether it signalled', () => {
    const scheduler = new ManualScheduler();
    const engine = createEngine({ scheduler });
    const events = collectEvents(engine);
    const node = engine.node('/headroom', 'test');
    const gate = new LevelGate(node, scheduler, 1000);
    expect(gate.offer('medium', 'usage 200 MiB of 256 MiB')).toBe(true);
    expect(gate.offer('medium', 'usage 201 MiB of 256 MiB')).toBe(false);
    node.signal('critical', 'limit in 0.3 s at 250 MiB/s');
    node.signal('low', 'not this one');
    scheduler.flush();
    expect(events.map((e) => [e.level, e.reason])).toEqual([['critical', 'limit in 0.3 s at 250 MiB/s']]);
  });
});
