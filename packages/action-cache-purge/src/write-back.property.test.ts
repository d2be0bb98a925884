import { ManualScheduler } from '@memshed/core/testing';
import fc from 'fast-check';
import { LRUCache } from 'lru-cache';
import { CacheRegistry } from './cache-registry';
import type { WriteBack } from './purgeable';

/** A cached value: which write it came from. Each write makes a new object. */
interface Versioned {
  readonly key: string;
  readonly version: number;
}

type Op =
  | { kind: 'write'; key: string }
  | { kind: 'read'; key: string }
  | { kind: 'purge'; fraction: number }
  | { kind: 'app-flush' }
  | { kind: 'tick' }
  | { kind: 'step' };

const KEYS = ['a', 'b', 'c', 'd', 'e'];
const FLUSH_TIMEOUT = 100;

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), key: fc.constantFrom(...KEYS) }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('purge' as const), fraction: fc.constantFrom(0.2, 0.5, 1) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'app-flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'step' as const }) },
);

/** The cache under test: a Map or a real lru-cache, behind the same three operations. */
interface CacheUnderTest {
  readonly cache: Map<string, Versioned> | LRUCache<string, Versioned>;
  read(key: string): Versioned | undefined;
  peek(key: string): Versioned | undefined;
  set(key: string, value: Versioned): void;
}

const kinds: Record<string, () => CacheUnderTest> = {
  Map: () => {
    const cache = new Map<string, Versioned>();
    return {
      cache,
      read: (key) => cache.get(key),
      peek: (key) => cache.get(key),
      set: (key, value) => void cache.set(key, value),
    };
  },
  'lru-cache': () => {
    // Large enough that lru-cache never evicts by itself: only memshed's purges drop entries here.
    const cache = new LRUCache<string, Versioned>({ max: 1000 });
    return {
      cache,
      read: (key) => cache.get(key),
      peek: (key) => cache.peek(key),
      set: (key, value) => void cache.set(key, value),
    };
  },
};

describe('write-back caches under purges', () => {
  it.each(Object.keys(kinds))(
    '%s: after any interleaving of writes, reads, purges and flush failures, every acknowledged write is in the cache or the store',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(op, { maxLength: 40 }),
          fc.infiniteStream(fc.boolean()),
          async (s, ops, failures) => {
            const subject = kinds[kind]();
            const clock = new ManualScheduler();
            /** The store keeps the newest version of each key: a later write wins, as it must. */
            const store = new Map<string, Versioned>();
            /** key -> the version written to the cache and not yet in the store. */
            const dirty = new Map<string, number>();
            /** key -> the newest acknowledged version. */
            const acked = new Map<string, number>();
            const failing = failures[Symbol.iterator]();
            let version = 0;

            const writeToStore = async (entries: readonly (readonly [string, Versioned])[]) => {
              const fail = failing.next().value as boolean;
              await s.schedule(Promise.resolve(), `store write of ${entries.map(([k]) => k).join(',')}`);
              if (fail) throw new Error('store write failed');
              for (const [key, value] of entries) {
                if ((store.get(key)?.version ?? -1) < value.version) store.set(key, value);
                if (dirty.get(key) === value.version) dirty.delete(key);
              }
            };
            const writeBack: WriteBack<string, Versioned> = {
              isDirty: (key, value) => dirty.get(key) === value.version,
              flush: (entries) => writeToStore(entries),
            };
            const registry = new CacheRegistry();
            registry.register('under-test', subject.cache, { writeBack });

            const pending: Promise<unknown>[] = [];
            const check = () => {
              for (const [key, latest] of acked) {
                const inCache = subject.peek(key)?.version === latest;
                const inStore = store.get(key)?.version === latest;
                if (!inCache && !inStore) {
                  throw new Error(
                    `acknowledged write ${key}@${latest} is lost (cache ${subject.peek(key)?.version}, store ${store.get(key)?.version})`,
                  );
                }
              }
            };

            for (const step of ops) {
              switch (step.kind) {
                case 'write': {
                  const value = { key: step.key, version: ++version };
                  subject.set(step.key, value);
                  dirty.set(step.key, value.version);
                  acked.set(step.key, value.version); // acknowledged: the write is in the cache
                  break;
                }
                case 'read': {
                  // Read-through: a miss loads the store's value into the cache, clean.
                  if (subject.read(step.key) === undefined) {
                    const stored = store.get(step.key);
                    if (stored && !dirty.has(step.key)) subject.set(step.key, stored);
                  }
                  break;
                }
                case 'purge':
                  pending.push(
                    registry.purge(
                      { fraction: step.fraction, upTo: 'high' },
                      { signal: new AbortController().signal, flushTimeout: FLUSH_TIMEOUT, scheduler: clock },
                    ),
                  );
                  break;
                case 'app-flush': {
                  // The application's own write-back of whatever is dirty now.
                  const entries: [string, Versioned][] = [];
                  for (const key of dirty.keys()) {
                    const value = subject.peek(key);
                    if (value && dirty.get(key) === value.version) entries.push([key, value]);
                  }
                  if (entries.length > 0) pending.push(writeToStore(entries).catch(() => undefined));
                  break;
                }
                case 'tick':
                  clock.advanceBy(FLUSH_TIMEOUT); // flushes still pending now exceed their budget
                  break;
                case 'step':
                  if (s.count() > 0) await s.waitOne();
                  break;
              }
              check();
            }
            // Every purge and flush settles: a pending flush at its turn, or its purge at the timeout.
            await s.waitFor(Promise.all(pending));
            check();
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});
