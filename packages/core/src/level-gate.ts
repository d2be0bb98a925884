import type { SchedulerLike } from 'rxjs';
import type { PressureNode } from './engine';
import { levelIndex, type PressureLevel } from './levels';

const NONE = -1;

/**
 * For sources that read a level rather than reclaim counts (headroom against a limit, OS memory
 * levels): signals a level when it rises, and again every `repeat` ms while it holds (so the
 * monitor's quiet period does not lapse under steady pressure); nothing while below every
 * threshold, which also re-arms it.
 */
export class LevelGate {
  private signalled = NONE;
  private signalledAt = -Infinity;

  constructor(
    private readonly node: PressureNode,
    private readonly scheduler: SchedulerLike,
    private readonly repeat: number,
  ) {}

  /**
   * The level read now, or `undefined` when below every threshold; `reason` goes with the signal
   * (see `PressureNode.signal`). Returns whether it signalled.
   */
  offer(level: PressureLevel | undefined, reason?: string): boolean {
    if (level === undefined) {
      this.signalled = NONE;
      return false;
    }
    const index = levelIndex(level);
    const now = this.scheduler.now();
    if (index > this.signalled || now - this.signalledAt >= this.repeat) {
      this.signalled = index;
      this.signalledAt = now;
      this.node.signal(level, reason);
      return true;
    }
    return false;
  }
}
