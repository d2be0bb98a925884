import { MemshedFacet, definePlugin } from '@memshed/core';
import { CachePurgeAction } from './cache-purge-action';
import { cachePurgeOptionsSchema } from './cache-purge-options';
import { CacheRegistry } from './cache-registry';

/**
 * The cache-purge plugin (id `cache-purge`): the action, and the {@link CacheRegistry} (one per
 * container, where the application registers its caches) its actions purge.
 *
 * @example
 * const memshed = await createMemshed({ modules: [cachePurgeModule] });
 * memshed.container.get(CacheRegistry).register('sessions', sessions, { priority: 'low' });
 */
const cachePurgeModule = definePlugin({
  kind: 'action',
  id: 'cache-purge',
  description: 'Purge registered caches by priority and level, flushing write-back entries first',
  optionsSchema: cachePurgeOptionsSchema,
  bind: ({ bind }) => {
    bind(CacheRegistry).toSelf().inSingletonScope();
    bind<MemshedFacet>(MemshedFacet).toConstantValue({
      property: 'caches',
      resolve: (container) => container.get(CacheRegistry),
    });
  },
  create: (options, services) => new CachePurgeAction(options, services.get(CacheRegistry)),
});

export default cachePurgeModule;
export { cachePurgeModule };
export { CachePurgeAction } from './cache-purge-action';
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
