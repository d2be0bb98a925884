import { SheddingActionFactory, createMemshed, validateOptions, type ActionRunRecord } from '@memshed/core';
import { LRUCache } from 'lru-cache';
import cachePurgeModule, { CacheRegistry } from './index';

describe('memshed.caches (facet)', () => {
  it('is the container registry, and a purge through memshed.runner empties what the app registered', async () => {
    const memshed = await createMemshed({ modules: [cachePurgeModule] });
    expect(memshed.caches).toBeInstanceOf(CacheRegistry);
    expect(memshed.caches).toBe(memshed.container.get(CacheRegistry));

    const sessions = new LRUCache<string, string>({ max: 100 });
    for (let i = 0; i < 10; i++) sessions.set(`s${i}`, 'x'.repeat(100));
    memshed.caches.register('sessions', sessions, { priority: 'low' });

    const records: ActionRunRecord[] = [];
    memshed.actions$.subscribe((record) => records.push(record));
    const [factory] = memshed.container.getAll<SheddingActionFactory>(SheddingActionFactory);
    const options = validateOptions(factory.optionsSchema, {});
    if (!options.ok) throw new Error('default options must validate');
    await memshed.runner.run({ action: factory.create(options.value) }, { level: 'critical' });

    expect(sessions.size).toBe(0);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'cache-purge', status: 'ok', level: 'critical' });
    await memshed.stop();
  });
});
