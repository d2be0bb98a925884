import type { SheddingAction } from '../plugin';

/** Where one action instance stands between runs. */
export interface ActionSlot {
  /** A run has started and not settled (also after its timeout). */
  running: boolean;
  /** When the running run started (scheduler time). */
  since: number;
  /** The action is skipped until then (scheduler time). */
  coolUntil: number;
}

/**
 * The runner's rule for one action instance: runs never overlap, and after a run settles the
 * action rests for its cooldown. Keyed by identity, so that two steps naming the same instance
 * share the slot, and weakly, so that a dropped action takes its slot with it.
 */
export class ActionSlots {
  private readonly slots = new WeakMap<SheddingAction, ActionSlot>();

  /** The slot of `action`, when it ever ran. */
  peek(action: SheddingAction): ActionSlot | undefined {
    return this.slots.get(action);
  }

  /** Why `action` cannot start at `now` (`running` or `cooldown`), or undefined when it can. */
  busy(action: SheddingAction, now: number): 'running' | 'cooldown' | undefined {
    const slot = this.slots.get(action);
    if (slot?.running) return 'running';
    if (slot && now < slot.coolUntil) return 'cooldown';
    return undefined;
  }

  /** Marks `action` running from `now` and returns its slot. */
  take(action: SheddingAction, now: number): ActionSlot {
    let slot = this.slots.get(action);
    if (!slot) {
      slot = { running: false, since: 0, coolUntil: -Infinity };
      this.slots.set(action, slot);
    }
    slot.running = true;
    slot.since = now;
    return slot;
  }

  /** The run really settled at `now`: free the slot and start the cooldown. */
  release(slot: ActionSlot, now: number, cooldown: number): void {
    slot.running = false;
    slot.coolUntil = now + cooldown;
  }
}
