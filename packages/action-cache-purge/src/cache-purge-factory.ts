import { SheddingActionFactory } from '@memshed/core';
import { inject, injectable } from '@memshed/core/inversify';
import { CachePurgeAction } from './cache-purge-action';
import { cachePurgeOptionsSchema, type CachePurgeOptions } from './cache-purge-options';
import { CacheRegistry } from './cache-registry';

/** Creates cache-purge actions over the container's {@link CacheRegistry}. */
@injectable()
export class CachePurgeFactory implements SheddingActionFactory<CachePurgeOptions> {
  readonly id = 'cache-purge';
  readonly description = 'Purge registered caches by priority and level, flushing write-back entries first';
  readonly optionsSchema = cachePurgeOptionsSchema;

  constructor(@inject(CacheRegistry) private readonly registry: CacheRegistry) {}

  create(options: CachePurgeOptions): CachePurgeAction {
    return new CachePurgeAction(options, this.registry);
  }
}
