import {
  SheddingActionFactory,
  formatBytes,
  type ActionContext,
  type ActionResult,
  type SheddingAction,
} from '@memshed/core';
import { inject, injectable } from 'inversify';
import { z } from 'zod';
import { BufferPools } from './buffer-pool';

/** Options of the `buffer-pool` action (`with:` in config). */
export const bufferPoolOptionsSchema = z.strictObject({
  /** Share of each pool's free buffers to keep, 0 to 1. Default 0: drop them all. */
  keep: z.number().min(0).max(1).default(0),
  /** Only these pools; empty: every registered pool. */
  pools: z.array(z.string()).default([]),
});

/** Validated options of the `buffer-pool` action. */
export type BufferPoolOptions = z.output<typeof bufferPoolOptionsSchema>;

/**
 * Trims the free buffers of registered {@link BufferPool}s: memory the application holds only to
 * avoid allocating later, given back under pressure. Honours dry run; the bytes are estimated (they
 * return to the system when V8 collects the buffers).
 */
export class BufferPoolAction implements SheddingAction {
  readonly id = 'buffer-pool';

  constructor(
    private readonly options: BufferPoolOptions,
    private readonly pools: BufferPools,
  ) {}

  async run(context: ActionContext): Promise<ActionResult> {
    const selected = this.pools
      .entries()
      .filter(([name]) => this.options.pools.length === 0 || this.options.pools.includes(name));
    let bytes = 0;
    let buffers = 0;
    for (const [, pool] of selected) {
      const keep = Math.ceil(pool.freeCount * this.options.keep);
      const drop = pool.freeCount - keep;
      buffers += drop;
      bytes += context.dryRun ? drop * pool.bufferSize : pool.trim(keep);
    }
    const verb = context.dryRun ? 'would drop' : 'dropped';
    return {
      freedBytes: bytes,
      estimated: true,
      summary: `${verb} ${buffers} free buffer(s) from ${selected.length} pool(s) (${formatBytes(bytes)})`,
      details: { buffers, pools: selected.length },
    };
  }
}

/** Creates `buffer-pool` actions sharing the container's {@link BufferPools}. */
@injectable()
export class BufferPoolActionFactory implements SheddingActionFactory<BufferPoolOptions> {
  readonly id = 'buffer-pool';
  readonly description = 'give back the free buffers of registered buffer pools';
  readonly optionsSchema = bufferPoolOptionsSchema;

  constructor(@inject(BufferPools) private readonly pools: BufferPools) {}

  create(options: BufferPoolOptions): BufferPoolAction {
    return new BufferPoolAction(options, this.pools);
  }
}
