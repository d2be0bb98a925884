import type { PressureEngine, PressureEvent } from '../engine';

/**
 * Every event `engine` delivers anywhere in its tree (a `low` listener on `/` in hierarchy mode),
 * appended to the returned array as it arrives: what a test asserts on after flushing its scheduler.
 *
 * @example
 * const events = collectEvents(engine);
 * engine.node('/app', 'test').signal('critical');
 * scheduler.flush();
 * expect(events.map((e) => e.level)).toEqual(['critical']);
 */
export function collectEvents(engine: PressureEngine): PressureEvent[] {
  const events: PressureEvent[] = [];
  engine
    .node('/')
    .listen('low', 'hierarchy')
    .subscribe((event) => events.push(event));
  return events;
}
