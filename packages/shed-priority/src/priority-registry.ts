import { MemshedError } from '@memshed/core';
import { SHED_PRIORITIES, isShedPriority, shedPriorityRank, type ShedPriority } from './shed-priority';
import type { Container, ServiceIdentifier } from '@memshed/core/inversify';

/** What a {@link PriorityRegistry} holds: something named that is shed by priority. */
export interface PriorityItem {
  /** Its unique name in the registry. */
  readonly name: string;
  /** How much it matters; lower priorities are shed first. */
  readonly priority: ShedPriority;
}

/** Undoes a registration. */
export interface PriorityRegistration {
  /** The registered name. */
  readonly name: string;
  /** Unregisters the item (only this registration; idempotent). */
  dispose(): void;
}

/** How a {@link PriorityRegistry} names what it holds in its errors. */
export interface PriorityRegistryWording {
  /** The kind of item, lower case: `cache`, `service`. */
  readonly noun: string;
  /** The fix for a missing name: how to register one, e.g. `register it as registry.register('sessions', cache)`. */
  readonly registerFix: string;
}

/**
 * Named items kept in shedding order: lowest priority first, then registration order. The shared
 * bookkeeping of the cache and service registries: unique non-empty names, a known priority
 * (default `normal`), registrations that only undo themselves, and one order for listing.
 */
export class PriorityRegistry<T extends PriorityItem> {
  private readonly items = new Map<string, { readonly item: T; readonly order: number }>();
  private order = 0;

  constructor(private readonly wording: PriorityRegistryWording) {}

  /**
   * Checks `name` and `priority` (default `normal`), then stores what `create` builds from the
   * checked priority under `name`.
   *
   * @throws MemshedError `invalid-argument` when the name is empty or taken, or the priority unknown.
   */
  add(name: string, priority: unknown, create: (priority: ShedPriority) => T): PriorityRegistration {
    const { noun, registerFix } = this.wording;
    if (typeof name !== 'string' || name === '') {
      throw new MemshedError('invalid-argument', `A ${noun} needs a non-empty name`, { fix: registerFix });
    }
    if (this.items.has(name)) {
      throw new MemshedError('invalid-argument', `A ${noun} named '${name}' is already registered`, {
        fix: 'use another name, or dispose the earlier registration first',
      });
    }
    const checked = priority ?? 'normal';
    if (!isShedPriority(checked)) {
      const label = noun.charAt(0).toUpperCase() + noun.slice(1);
      throw new MemshedError(
        'invalid-argument',
        `${label} '${name}': unknown priority '${String(checked)}'`,
        {
          fix: `use one of ${SHED_PRIORITIES.join(', ')}`,
        },
      );
    }
    const stored = { item: create(checked), order: this.order++ };
    this.items.set(name, stored);
    return {
      name,
      dispose: () => {
        if (this.items.get(name) === stored) this.items.delete(name);
      },
    };
  }

  /** Whether an item is registered as `name`. */
  has(name: string): boolean {
    return this.items.has(name);
  }

  /** Unregisters the item named `name`; false when there was none. */
  delete(name: string): boolean {
    return this.items.delete(name);
  }

  /** The item registered as `name`. */
  get(name: string): T | undefined {
    return this.items.get(name)?.item;
  }

  /**
   * The items of priority below `limit` (or at it, with `inclusive`), in shedding order: what a
   * shedding step at that limit may take.
   *
   * @throws MemshedError `invalid-argument` for an unknown limit.
   */
  listBelow(limit: ShedPriority, { inclusive = false }: { inclusive?: boolean } = {}): T[] {
    const rank = shedPriorityRank(limit) + (inclusive ? 1 : 0);
    return this.list().filter((item) => shedPriorityRank(item.priority) < rank);
  }

  /** Every item in shedding order: lowest priority first, then registration order. */
  list(): T[] {
    return [...this.items.values()]
      .sort(
        (a, b) => shedPriorityRank(a.item.priority) - shedPriorityRank(b.item.priority) || a.order - b.order,
      )
      .map((stored) => stored.item);
  }
}

/** Where {@link registryOf} looks for a registry, and what its error names when it is not there. */
export interface RegistryLookup<R> {
  /** The registry's class, bound as a singleton by its action's module. */
  readonly registry: ServiceIdentifier<R>;
  /** The kind of item it holds, lower case: `cache`, `service`. */
  readonly noun: string;
  /** The id of the action module that binds it, e.g. `cache-purge`. */
  readonly moduleId: string;
  /** The name that module is exported as, e.g. `cachePurgeModule`. */
  readonly moduleExport: string;
}

/**
 * The registry an action module bound in a running memshed (or in any container the module was
 * loaded into).
 *
 * @throws MemshedError `unavailable` when the module is not loaded.
 */
export function registryOf<R>(
  owner: { readonly container: Container } | Container,
  lookup: RegistryLookup<R>,
): R {
  const container = 'container' in owner ? owner.container : owner;
  if (!container.isBound(lookup.registry)) {
    throw new MemshedError(
      'unavailable',
      `No ${lookup.noun} registry: the ${lookup.moduleId} module is not loaded`,
      { fix: `pass the ${lookup.moduleId} module to createMemshed({ modules: [${lookup.moduleExport}] })` },
    );
  }
  return container.get<R>(lookup.registry);
}
