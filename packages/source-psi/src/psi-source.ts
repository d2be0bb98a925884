import { Socket, createConnection } from 'node:net';
import type { Subscription } from 'rxjs';
import { interval } from '@memshed/core/rx';
import { constants, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  MemshedError,
  PRESSURE_LEVELS,
  type PressureLevel,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { availableFraction, Capability, errnoKind, hasCapability } from '@memshed/cgroupfs';
import { nativeAvailability, watchPriority, type NativeWatcher } from '@memshed/native';
import { parsePsi, type PsiStats } from './psi-format';
import { resolvePsiTarget, type PsiTarget } from './psi-target';
import { formatTrigger, parseTrigger, triggerPercent, validateTrigger, type PsiTrigger } from './psi-trigger';
import type { PsiSourceOptions } from './psi-source-options';

type PsiFileTarget = Extract<PsiTarget, { kind: 'psi-file' }>;
type PsiStreamTarget = Extract<PsiTarget, { kind: 'fifo' | 'socket' }>;

interface ArmedTrigger {
  readonly level: PressureLevel;
  readonly trigger: PsiTrigger;
  readonly watcher: NativeWatcher;
  /** `total=` before arming, to filter the known false first event; undefined once past it. */
  totalBefore: number | undefined;
}

/** How the source runs once started. */
export type PsiMode = 'trigger' | 'poll' | 'stream';

/**
 * The PSI source: one kernel trigger per level, each on its own open file (the kernel allows one
 * trigger per file), signalling the engine with the level of the trigger that fired. Where
 * triggers are refused it polls `avg10` against the same thresholds, and says so.
 */
export class PsiSource implements PressureSource {
  readonly id = 'psi';
  private readonly triggers: ReadonlyArray<{ level: PressureLevel; trigger: PsiTrigger }>;
  private armed: ArmedTrigger[] = [];
  private pollTimer: Subscription | undefined;
  private stream: Socket | undefined;
  private sink: PressureSink | undefined;
  private node: PressureNode | undefined;
  private target: PsiTarget | undefined;
  private runningMode: PsiMode | undefined;

  constructor(
    private readonly options: PsiSourceOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.triggers = PRESSURE_LEVELS.flatMap((level) => {
      const text = options.triggers[level];
      return text === null ? [] : [{ level, trigger: parseTrigger(text) }];
    });
  }

  /** How the running source watches: kernel triggers, avg10 polling, or systemd's FIFO/socket. */
  get mode(): PsiMode | undefined {
    return this.runningMode;
  }

  availability(): SourceAvailability {
    const target = resolvePsiTarget(this.options, this.env);
    if (target.kind === 'disabled') return { available: false, reason: target.reason, hint: target.hint };
    // systemd hands each service its own group's pressure: that is scoped to the service.
    if (target.kind !== 'psi-file')
      return { available: true, detail: `systemd ${target.kind} ${target.file}`, scope: 'cgroup' };
    const stats = this.read(target.file);
    if (!stats.ok) return { available: false, reason: stats.error, hint: stats.hint };
    try {
      for (const { trigger } of this.effectiveTriggers(target)) validateTrigger(trigger, this.privileged());
    } catch (error) {
      const failure = error as MemshedError;
      return {
        available: false,
        reason: failure.message.replace(/\. Fix: .*$/, ''),
        hint: failure.fix ?? '',
      };
    }
    const plan = this.plan(target);
    if (this.isMachineWide(target.file)) {
      return {
        available: true,
        detail: `host-wide: ${plan.detail}; stalls of every process on the machine, not of this container (cgroup v2: set \`cgroup: self\`)`,
        scope: 'host',
      };
    }
    return { available: true, detail: plan.detail, scope: 'cgroup' };
  }

  async start(sink: PressureSink): Promise<void> {
    const target = resolvePsiTarget(this.options, this.env);
    if (target.kind === 'disabled') {
      throw new MemshedError('unavailable', target.reason, { fix: target.hint });
    }
    this.sink = sink;
    this.target = target;
    this.node = sink.node(target.scope);
    if (target.kind !== 'psi-file') {
      this.startStream(target);
      return;
    }
    const stats = this.read(target.file);
    if (!stats.ok) throw new MemshedError('unavailable', stats.error, { fix: stats.hint });
    const triggers = this.effectiveTriggers(target);
    for (const { trigger } of triggers) validateTrigger(trigger, this.privileged());
    const plan = this.plan(target);
    if (plan.mode === 'poll') {
      if (plan.refusal)
        sink.logger.warn(`psi: kernel triggers refused (${plan.refusal}); polling avg10 instead`);
      this.startPolling(target.file, triggers);
      return;
    }
    try {
      for (const { level, trigger } of triggers) this.arm(target.file, level, trigger, stats.value);
      this.runningMode = 'trigger';
    } catch (error) {
      this.disarm();
      if (this.options.mode === 'trigger') throw error;
      sink.logger.warn(`psi: kernel triggers refused (${(error as Error).message}); polling avg10 instead`);
      this.startPolling(target.file, triggers);
    }
  }

  stop(): void {
    this.disarm();
    const timer = this.pollTimer;
    this.pollTimer = undefined;
    timer?.unsubscribe();
    this.stream?.destroy();
    this.stream = undefined;
    this.runningMode = undefined;
    this.sink = undefined;
    this.node = undefined;
  }

  private effectiveTriggers(target: PsiFileTarget): { level: PressureLevel; trigger: PsiTrigger }[] {
    if (target.systemdTrigger) {
      return [{ level: target.systemdTrigger.level, trigger: parseTrigger(target.systemdTrigger.text) }];
    }
    return [...this.triggers];
  }

  private privileged(): boolean {
    return hasCapability(Capability.SYS_RESOURCE, this.options.root);
  }

  /** Decides between triggers and polling, trying one trigger when the mode is `auto`. */
  /** /proc/pressure/memory is the machine's (the kernel keeps no per-namespace copy). */
  private isMachineWide(file: string): boolean {
    return path.resolve(file) === path.resolve(this.options.root, 'proc/pressure/memory');
  }

  private plan(target: PsiFileTarget): { mode: 'trigger' | 'poll'; detail: string; refusal?: string } {
    const interval = `${this.options.pollInterval} ms`;
    if (this.options.mode === 'poll')
      return { mode: 'poll', detail: `${target.file}, polling avg10 every ${interval}` };
    const native = nativeAvailability();
    if (!native.available) {
      if (this.options.mode === 'trigger')
        throw new MemshedError('unavailable', native.reason, { fix: native.hint });
      return {
        mode: 'poll',
        detail: `${target.file}, polling avg10 every ${interval} (${native.reason})`,
        refusal: native.reason,
      };
    }
    const first = this.effectiveTriggers(target)[0];
    if (first && this.options.mode === 'auto') {
      try {
        watchPriority(target.file, formatTrigger(first.trigger), () => undefined).close();
      } catch (error) {
        const why = (error as Error).message;
        return {
          mode: 'poll',
          detail: `${target.file}, polling avg10 every ${interval} (triggers refused: ${why})`,
          refusal: why,
        };
      }
    }
    const list = this.effectiveTriggers(target)
      .map(({ level, trigger }) => `${level}: ${formatTrigger(trigger)}`)
      .join('; ');
    return { mode: 'trigger', detail: `${target.file}, kernel triggers (${list})` };
  }

  private arm(file: string, level: PressureLevel, trigger: PsiTrigger, before: PsiStats): void {
    const armed: ArmedTrigger = {
      level,
      trigger,
      totalBefore: totalOf(before, trigger.kind),
      watcher: watchTrigger(file, formatTrigger(trigger), (event) => this.onTrigger(armed, event.error)),
    };
    this.armed.push(armed);
  }

  private onTrigger(armed: ArmedTrigger, error: boolean): void {
    if (!this.sink || !this.node || !this.target) return;
    if (error) {
      this.sink.error(
        new MemshedError(
          'source-failed',
          `psi: ${this.target.kind === 'psi-file' ? this.target.file : ''} reported POLLERR: the group is gone or PSI was turned off`,
          {
            fix: 'check that the cgroup still exists and that the kernel has psi=1',
          },
        ),
      );
      armed.watcher.close();
      this.armed = this.armed.filter((a) => a !== armed);
      return;
    }
    if (armed.totalBefore !== undefined) {
      // The first event after arming can be false: the trigger's window is seeded from another
      // aggregator. Keep it only if the stall really grew by the threshold since arming.
      const before = armed.totalBefore;
      armed.totalBefore = undefined;
      const now = this.target.kind === 'psi-file' ? this.read(this.target.file) : undefined;
      if (now?.ok && totalOf(now.value, armed.trigger.kind) - before < armed.trigger.stallUs) {
        this.sink.logger.debug(
          `psi: dropped the first ${armed.level} event after arming (stall did not grow)`,
        );
        return;
      }
    }
    if (!this.confirmed()) return;
    this.node.signal(armed.level);
  }

  /** GLib's confirmation: ignore events while more than `ignoreAboveAvailable` of memory is free. */
  private confirmed(): boolean {
    const limit = this.options.ignoreAboveAvailable;
    if (limit === undefined) return true;
    const available = availableFraction(this.options.root);
    return available === undefined || available <= limit;
  }

  private startPolling(
    file: string,
    triggers: readonly { level: PressureLevel; trigger: PsiTrigger }[],
  ): void {
    this.runningMode = 'poll';
    const ordered = [...triggers].reverse(); // highest level first
    const poll = () => {
      const stats = this.read(file);
      if (!stats.ok) {
        this.sink?.error(new MemshedError('source-failed', `psi: ${stats.error}`, { fix: stats.hint }));
        return;
      }
      for (const { level, trigger } of ordered) {
        const line = trigger.kind === 'full' ? stats.value.full : stats.value.some;
        if (line && line.avg10 >= triggerPercent(trigger)) {
          if (this.confirmed()) this.node?.signal(level);
          return;
        }
      }
    };
    this.pollTimer = interval(this.options.pollInterval, this.sink!.scheduler).subscribe(poll);
  }

  private startStream(target: PsiStreamTarget): void {
    this.runningMode = 'stream';
    const onData = () => {
      if (this.confirmed()) this.node?.signal(target.level);
    };
    const onError = (error: Error) =>
      this.sink?.error(
        new MemshedError(
          'source-failed',
          `psi: systemd ${target.kind} ${target.file} failed: ${error.message}`,
        ),
      );
    if (target.kind === 'socket') {
      const socket = createConnection(target.file, () => {
        if (target.write) socket.write(target.write);
      });
      socket.on('data', onData).on('error', onError).unref();
      this.stream = socket;
    } else {
      // O_RDWR: opening never blocks waiting for a writer, and a writer closing is no EOF.
      // O_NONBLOCK + net.Socket: libuv polls the pipe; no threadpool thread sits in read().
      const fd = openSync(target.file, constants.O_RDWR | constants.O_NONBLOCK);
      const pipe = new Socket({ fd, readable: true, writable: false });
      pipe.on('data', onData).on('error', onError).unref();
      this.stream = pipe;
    }
  }

  private disarm(): void {
    for (const armed of this.armed) armed.watcher.close();
    this.armed = [];
  }

  private read(file: string): { ok: true; value: PsiStats } | { ok: false; error: string; hint: string } {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return {
        ok: false,
        error: `cannot read ${file} (${code ?? String(error)})`,
        hint:
          code !== 'ENOENT'
            ? 'check the permissions of the file'
            : // A group's file whose group is not there: PSI may well be on, the group name is wrong.
              path.basename(file) === 'memory.pressure' && !existsSync(path.dirname(file))
              ? `cgroup ${path.dirname(file)} does not exist: create it, or fix the \`cgroup\` option ('self', or a path below the cgroup v2 mount)`
              : 'PSI needs Linux 4.20+ with CONFIG_PSI and psi=1 on the kernel command line; or use the cgroup-v1 or vmstat source',
      };
    }
    const parsed = parsePsi(text);
    return parsed.ok
      ? parsed
      : { ok: false, error: `${file}: ${parsed.error}`, hint: 'this is not a PSI file' };
  }
}

function totalOf(stats: PsiStats, kind: 'some' | 'full'): number {
  return (kind === 'full' ? stats.full?.total : stats.some.total) ?? 0;
}

/** `watchPriority`, its errno failures turned into MemshedErrors of the matching kind. */
function watchTrigger(...args: Parameters<typeof watchPriority>): NativeWatcher {
  try {
    return watchPriority(...args);
  } catch (error) {
    const { code, fix } = error as { code?: string; fix?: string };
    throw MemshedError.from(error, errnoKind(code), `psi: could not arm a trigger on ${args[0]}`, {
      fix,
      context: { code },
    });
  }
}
