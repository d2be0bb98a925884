import { MemshedError } from '@memshed/core';
import { injectable } from 'inversify';

/**
 * A pool of equal-sized Buffers, reused rather than allocated per request (a parser's or a
 * compressor's scratch space). A pool keeps up to `maxFree` free buffers between bursts: memory it
 * can give back at once when asked.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    /** Bytes per buffer. */
    readonly bufferSize: number,
    /** Free buffers kept for reuse at most. */
    readonly maxFree = 64,
  ) {
    if (!Number.isInteger(bufferSize) || bufferSize <= 0) {
      throw new MemshedError(
        'invalid-argument',
        `BufferPool bufferSize must be a positive integer, got ${bufferSize}`,
      );
    }
  }

  /** A buffer from the pool, or a new one. */
  acquire(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.bufferSize);
  }

  /** Gives a buffer back for reuse (dropped when the pool is full). */
  release(buffer: Buffer): void {
    if (buffer.length === this.bufferSize && this.free.length < this.maxFree) this.free.push(buffer);
  }

  /** Free buffers held. */
  get freeCount(): number {
    return this.free.length;
  }

  /** Drops free buffers down to `keep` of them; returns the bytes dropped (freed at the next GC). */
  trim(keep = 0): number {
    const dropped = Math.max(0, this.free.length - Math.max(0, Math.floor(keep)));
    this.free.length -= dropped;
    return dropped * this.bufferSize;
  }
}

/** The pools the `buffer-pool` action may trim, by name. Bound once per container by the plugin. */
@injectable()
export class BufferPools {
  private readonly pools = new Map<string, BufferPool>();

  /** Registers `pool` under `name`; returns a function that unregisters it. */
  register(name: string, pool: BufferPool): () => void {
    if (this.pools.has(name)) {
      throw new MemshedError('invalid-argument', `A buffer pool named '${name}' is already registered`, {
        fix: 'use another name',
      });
    }
    this.pools.set(name, pool);
    return () => {
      if (this.pools.get(name) === pool) this.pools.delete(name);
    };
  }

  /** The registered pools, by name. */
  entries(): [string, BufferPool][] {
    return [...this.pools];
  }
}
