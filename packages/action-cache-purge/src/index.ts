import { MemshedFacet, SheddingActionFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { CachePurgeFactory } from './cache-purge-factory';
import { CacheRegistry } from './cache-registry';

/**
 * The cache-purge plugin (id `cache-purge`): binds the {@link CacheRegistry} (one per container,
 * where the application registers its caches) and the action factory.
 *
 * @example
 * const memshed = await createMemshed({ modules: [cachePurgeModule] });
 * memshed.container.get(CacheRegistry).register('sessions', sessions, { priority: 'low' });
 */
const cachePurgeModule = new ContainerModule(({ bind }) => {
  bind(CacheRegistry).toSelf().inSingletonScope();
  bind<MemshedFacet>(MemshedFacet).toConstantValue({
    property: 'caches',
    resolve: (container) => container.get(CacheRegistry),
  });
  bind(CachePurgeFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(CachePurgeFactory);
});

export default cachePurgeModule;
export { cachePurgeModule };
export { CachePurgeAction } from './cache-purge-action';
export { CachePurgeFactory } from './cache-purge-factory';
export { cachePurgeOptionsSchema } from './cache-purge-options';
export type { CachePurgeOptions, CachePurgeOptionsInput } from './cache-purge-options';
export { CacheRegistry, cachesOf } from './cache-registry';
export type {
  CachePurgeReport,
  CacheRegistration,
  CacheRegistrationOptions,
  PurgePlan,
  PurgeRunOptions,
  PurgeSummary,
  RegisteredCache,
} from './cache-registry';
export { isLruCacheLike, isPurgeable, purgeableLruCache, purgeableMap, toPurgeable } from './cache-adapters';
export type { AdapterOptions, LruCacheLike } from './cache-adapters';
export { estimateBytes } from './purgeable';
export type { CacheSize, Purgeable, PurgeOptions, PurgeReport, WriteBack } from './purgeable';

declare module '@memshed/core' {
  interface Memshed {
    /** The cache registry of this memshed (from @memshed/action-cache-purge): `memshed.caches.register('sessions', sessions, { priority: 'low' });` */
    readonly caches: CacheRegistry;
  }
}
