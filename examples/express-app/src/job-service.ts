import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A background job: render something in a scratch buffer. */
export interface Job {
  readonly id: string;
  readonly size: number;
}

/**
 * A background job service: a queue worked off one job at a time with a reusable scratch
 * workspace (the memory it holds while running). memshed may stop it under pressure (registered
 * with the service-shutdown action as `jobs`, priority `background`): `stop()` finishes the job in
 * hand, keeps the queue, and drops the workspace; `start()` picks the queue up again.
 */
export class JobService {
  /** Jobs done. */
  processed = 0;
  private readonly queue: Job[] = [];
  private running = false;
  private working: Promise<void> | undefined;
  private workspace: Buffer[] = [];

  constructor(
    /** Scratch buffers held while running, and their size. */
    private readonly scratch = { buffers: 8, bytes: 1024 * 1024 },
  ) {}

  /** `running` or `stopped`. */
  get state(): 'running' | 'stopped' {
    return this.running ? 'running' : 'stopped';
  }

  /** Jobs waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Bytes of scratch space held. */
  get heldBytes(): number {
    return this.workspace.reduce((sum, buffer) => sum + buffer.length, 0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.workspace = Array.from({ length: this.scratch.buffers }, () => Buffer.alloc(this.scratch.bytes));
    this.pump();
  }

  /** Queues a job; false when the service is stopped (the API answers 503). */
  enqueue(job: Job): boolean {
    if (!this.running) return false;
    this.queue.push(job);
    this.pump();
    return true;
  }

  /** Stops taking jobs, finishes the one in hand (unless `signal` aborts first), drops the workspace. */
  async stop(signal?: AbortSignal): Promise<void> {
    this.running = false;
    if (this.working && !signal?.aborted) {
      await Promise.race([
        this.working,
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
      ]);
    }
    this.workspace = [];
  }

  private pump(): void {
    if (this.working || !this.running || this.queue.length === 0) return;
    this.working = this.work().finally(() => {
      this.working = undefined;
      this.pump();
    });
  }

  private async work(): Promise<void> {
    while (this.running && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      const buffer = this.workspace[this.processed % this.workspace.length];
      buffer.fill(job.id, 0, Math.min(job.size, buffer.length));
      createHash('sha256').update(buffer).digest();
      this.processed++;
      await nextTurn(); // one job per turn of the event loop: requests go first
    }
  }
}
