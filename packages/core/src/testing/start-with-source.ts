import type { PressureEvent } from '../engine';
import { createMemshed, type Memshed } from '../memshed';
import type { PressureSource } from '../plugin';
import { ManualScheduler } from './manual-scheduler';

/** What {@link startWithSource} started. */
export interface StartedSource {
  /** The virtual time the memshed and its source run on. */
  readonly scheduler: ManualScheduler;
  /** The running memshed; stop it at the end of the test. */
  readonly memshed: Memshed;
  /** Every event the memshed delivered, in order. */
  readonly events: PressureEvent[];
}

/**
 * Starts a memshed with `source` alone on a {@link ManualScheduler} and records its events: the
 * set-up of a source test in virtual time.
 *
 * @example
 * const { scheduler, memshed, events } = await startWithSource(new PsiSource(options));
 * scheduler.advanceBy(1000);
 * expect(events.map((e) => e.level)).toEqual(['low']);
 * await memshed.stop();
 */
export async function startWithSource(source: PressureSource): Promise<StartedSource> {
  const scheduler = new ManualScheduler();
  const memshed = await createMemshed({ sources: [source], scheduler });
  const events: PressureEvent[] = [];
  memshed.events$.subscribe((event) => events.push(event));
  return { scheduler, memshed, events };
}
