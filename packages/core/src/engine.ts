import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { Observable } from './rx';
import { MemshedError } from './errors';
import {
  PRESSURE_LEVELS,
  isPressureLevel,
  isPressureMode,
  levelIndex,
  type PressureLevel,
  type PressureMode,
} from './levels';
import { loopScheduler } from './scheduler';
import {
  VMPRESSURE_CRITICAL_PRIORITY,
  VMPRESSURE_LEVEL_CRITICAL,
  VMPRESSURE_LEVEL_MEDIUM,
  VMPRESSURE_WINDOW,
  vmpressurePercent,
} from './vmpressure';

/**
 * One pressure notification, as delivered to a listener.
 *
 * Events computed from reclaim counts carry `scanned`, `reclaimed` and `pressure`; events that
 * entered through `signal()` (the level was decided by the kernel or the OS) do not.
 */
export interface PressureEvent {
  /** The level of the window (or of the signal). */
  readonly level: PressureLevel;
  /** The path of the node where reclaim happened, e.g. `/` or `/app/workers`. */
  readonly scope: string;
  /** The id of the source that fed the node, e.g. `cgroup-v1`, `vmscan-sim`. */
  readonly source: string;
  /** When the work function ran, in the engine scheduler's milliseconds. */
  readonly time: number;
  /**
   * When the source signalled the level (signalled events only: the latest `signal()` the event
   * coalesces), in the engine scheduler's milliseconds. Earlier than {@link time} when the event
   * loop was busy between the two (a collection of 100 ms): what the source saw then may since
   * have been given back, which a load shedder's release rule needs to know.
   */
  readonly signalledAt?: number;
  /**
   * Why the level was signalled, in words, when the source says (signalled events only), e.g.
   * `limit in 0.8 s at 120 MiB/s`.
   */
  readonly reason?: string;
  /** Pages scanned in the window (count-based events only). */
  readonly scanned?: number;
  /** Pages reclaimed in the window (count-based events only). */
  readonly reclaimed?: number;
  /** The kernel's pressure percentage for the window, 0-100 (count-based events only). */
  readonly pressure?: number;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** The window in pages: averaging window and rate limit. Default {@link VMPRESSURE_WINDOW} (512). */
  window?: number;
  /** Where work functions and the clock come from. Default {@link loopScheduler}; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
  /** The source id of handles obtained without one. Default `engine`. */
  source?: string;
}

/**
 * One node of the pressure tree: a memory cgroup, a process, a cache, whatever a source maps
 * reclaim onto. Obtain it once with `engine.node(path)` and hold it: its methods are the hot path.
 */
export interface PressureNode {
  /** The normalised path, `/` for the root. */
  readonly path: string;
  /** The source id stamped on the events this handle produces. */
  readonly source: string;
  /** The parent node (`/a` for `/a/b`), undefined for the root. */
  readonly parent: PressureNode | undefined;

  /**
   * `vmpressure(gfp, memcg, tree, scanned, reclaimed)`: accounts one reclaim pass.
   *
   * With `tree` true (the default, the path that feeds userland) the counts accumulate until a
   * window of scanned pages is reached, then one work item is scheduled (scheduling it again while
   * pending is a no-op); the work function takes all the counts, computes the level and walks up
   * the tree. `scanned == 0` is ignored ("keep calm": escalation comes through
   * {@link accountPriority}). With `tree` false the counts feed the node's socket-pressure state
   * instead (see {@link socketPressure}), never listeners.
   *
   * Counts are pages, non-negative integers.
   */
  account(scanned: number, reclaimed: number, tree?: boolean): void;

  /**
   * `vmpressure_prio(gfp, memcg, prio)`: a reclaim priority at or below
   * {@link VMPRESSURE_CRITICAL_PRIORITY} (3) accounts one fully failed window (window, 0), which
   * is critical. Higher priorities are ignored.
   */
  accountPriority(priority: number): void;

  /**
   * Enters the walk up the tree with a level that was already decided (by the kernel's eventfd,
   * a PSI trigger, the OS). Signals in one turn are coalesced to the highest level, which keeps
   * its `reason` (the event's {@link PressureEvent.reason}).
   */
  signal(level: PressureLevel, reason?: string): void;

  /**
   * Registers a listener, as writing to `cgroup.event_control` does: subscribe registers,
   * unsubscribe closes. The listener receives events at `level` and above, following the
   * propagation rules of `mode` (default: no passthrough; hierarchy; local).
   *
   * @throws MemshedError `invalid-argument` for an unknown level or mode (the kernel's EINVAL).
   */
  listen(level: PressureLevel, mode?: PressureMode): Observable<PressureEvent>;

  /**
   * Whether the in-kernel socket-pressure state is asserted: a `tree = false` window above low
   * asserts it for one second (hysteresis). Never asserted on the root, as in the kernel.
   *
   * This is the read side of the kernel's second door, `vmpressure(tree = false)`, which the
   * kernel's reclaim calls for every cgroup it scans (the simulator's vmscan does the same) and
   * which the kernel itself reads to throttle socket buffers. Userland never hears of it: no
   * listener and no `level$` sees these windows. Kept so the port stays the kernel's, whole: a
   * source that feeds per-group reclaim as the kernel does can ask whether a group is under
   * socket pressure, e.g. to shrink its own buffers.
   */
  socketPressure(): boolean;

  /** The same node with another source id, for a source that feeds a node it did not create. */
  withSource(source: string): PressureNode;
}

/** The vmpressure engine: a tree of nodes with the kernel's accounting and delivery. */
export interface PressureEngine {
  /** The window in pages. */
  readonly window: number;
  /** The scheduler that runs work functions and gives the time. */
  readonly scheduler: SchedulerLike;
  /**
   * The node at `path` (created with its ancestors on first use). Paths are `/`-separated and
   * absolute; `/` is the root; trailing and repeated slashes are ignored.
   *
   * @throws MemshedError `invalid-argument` for a path that is not absolute or has `.`/`..`.
   */
  node(path: string, source?: string): PressureNode;
  /** The paths of every node created so far, parents first. */
  paths(): string[];
  /** Cancels pending work and completes every listener. The engine is unusable afterwards. */
  dispose(): void;
}

const NONE = -1;
const SOCKET_PRESSURE_HOLD_MS = 1000;

/**
 * One listener, with its mode decided once at registration: `vmpressure_event()` tests the mode
 * for every registration of every node a work function walks, so the walk reads two booleans
 * instead of comparing strings.
 */
interface Registration {
  readonly level: number;
  /** `local`: only reclaim in the listener's own node. */
  readonly skipWhenAncestor: boolean;
  /** `default`: no passthrough once a listener below was signalled. */
  readonly skipWhenSignalled: boolean;
  readonly subscriber: Subscriber<PressureEvent>;
}

/**
 * Per-path state, shared by every handle of that path (the kernel's `struct vmpressure`).
 *
 * `account()` runs for every reclaim pass a source reports, so this class keeps what it reads on
 * itself (the window, the scheduler) rather than behind the engine, and every field is set in the
 * constructor with its final type: one hidden class for all nodes keeps the call sites monomorphic.
 */
class VmpressureState {
  // tree == true accounting (userland events)
  treeScanned = 0;
  treeReclaimed = 0;
  treeSource = '';
  windowReady = false;
  // tree == false accounting (socket pressure)
  scanned = 0;
  reclaimed = 0;
  socketPressureUntil = -Infinity;
  // signal() coalescing
  pendingSignal = NONE;
  signalSource = '';
  signalReason: string | undefined;
  signalTime = 0;
  // one pending work per node
  workPending = false;
  work: Subscription | undefined = undefined;
  // copy-on-write, so that a listener may unsubscribe while being delivered to
  registrations: readonly Registration[] = [];
  readonly handles = new Map<string, NodeHandle>();
  readonly window: number;
  readonly scheduler: SchedulerLike;

  constructor(
    readonly engine: VmpressureEngine,
    readonly path: string,
    readonly parent: VmpressureState | undefined,
  ) {
    this.window = engine.window;
    this.scheduler = engine.scheduler;
  }

  /** `schedule_work()`: a no-op while the node's work is pending. */
  scheduleWork(): void {
    if (this.workPending) return;
    this.workPending = true;
    this.work = this.scheduler.schedule(runWork, 0, this);
  }

  /** `vmpressure_work_fn`: snapshot and zero the counters, compute, walk up. */
  runWork(): void {
    this.workPending = false;
    this.work = undefined;
    if (this.windowReady) {
      this.windowReady = false;
      const scanned = this.treeScanned;
      if (scanned !== 0) {
        const reclaimed = this.treeReclaimed;
        this.treeScanned = 0;
        this.treeReclaimed = 0;
        const pressure = vmpressurePercent(scanned, reclaimed);
        const level = levelIndexForPercent(pressure);
        this.walk(level, {
          level: PRESSURE_LEVELS[level],
          scope: this.path,
          source: this.treeSource,
          time: this.scheduler.now(),
          scanned,
          reclaimed,
          pressure,
        });
      }
    }
    if (this.pendingSignal !== NONE) {
      const level = this.pendingSignal;
      const reason = this.signalReason;
      const signalledAt = this.signalTime;
      this.pendingSignal = NONE;
      this.signalReason = undefined;
      const time = this.scheduler.now();
      const source = this.signalSource;
      this.walk(
        level,
        reason === undefined
          ? { level: PRESSURE_LEVELS[level], scope: this.path, source, time, signalledAt }
          : { level: PRESSURE_LEVELS[level], scope: this.path, source, time, signalledAt, reason },
      );
    }
  }

  /** The work function's loop: this node, then every ancestor, with the ancestor/signalled flags. */
  private walk(level: number, event: PressureEvent): void {
    let signalled = this.deliver(event, level, false, false);
    for (let node = this.parent; node !== undefined; node = node.parent) {
      if (node.registrations.length !== 0 && node.deliver(event, level, true, signalled)) signalled = true;
    }
  }

  /** `vmpressure_event`: the three mode rules, then "a listener fires for its level and above". */
  private deliver(event: PressureEvent, level: number, ancestor: boolean, signalled: boolean): boolean {
    // The array is replaced, never changed, when listeners come and go: this one stays whole.
    const registrations = this.registrations;
    let delivered = false;
    for (let i = 0; i < registrations.length; i++) {
      const registration = registrations[i];
      if (ancestor && registration.skipWhenAncestor) continue;
      if (signalled && registration.skipWhenSignalled) continue;
      if (level < registration.level) continue;
      registration.subscriber.next(event);
      delivered = true;
    }
    return delivered;
  }

  register(registration: Registration): void {
    this.registrations = [...this.registrations, registration];
  }

  unregister(registration: Registration): void {
    this.registrations = this.registrations.filter((r) => r !== registration);
  }
}

/** `vmpressure_level()` as the kernel's enum: 0 low, 1 medium, 2 critical. */
function levelIndexForPercent(pressure: number): number {
  return pressure >= VMPRESSURE_LEVEL_CRITICAL ? 2 : pressure >= VMPRESSURE_LEVEL_MEDIUM ? 1 : 0;
}

function runWork(this: unknown, state?: VmpressureState): void {
  state!.runWork();
}

class NodeHandle implements PressureNode {
  constructor(
    private readonly state: VmpressureState,
    readonly source: string,
  ) {}

  get path(): string {
    return this.state.path;
  }

  get parent(): PressureNode | undefined {
    const parent = this.state.parent;
    return parent ? this.state.engine.handle(parent, this.source) : undefined;
  }

  account(scanned: number, reclaimed: number, tree = true): void {
    // Keep calm: nothing scanned says nothing yet (also drops NaN and negatives).
    if (!(scanned > 0)) return;
    if (!(reclaimed >= 0)) throw invalidCount(reclaimed);
    const state = this.state;
    if (tree) {
      state.treeReclaimed += reclaimed;
      // Read before write: most calls come from the handle that made the last one.
      if (state.treeSource !== this.source) state.treeSource = this.source;
      if ((state.treeScanned += scanned) < state.window) return;
      state.windowReady = true;
      if (!state.workPending) state.scheduleWork();
    } else {
      accountSocket(state, scanned, reclaimed);
    }
  }

  accountPriority(priority: number): void {
    if (priority > VMPRESSURE_CRITICAL_PRIORITY) return;
    this.account(this.state.window, 0, true);
  }

  signal(level: PressureLevel, reason?: string): void {
    if (!isPressureLevel(level)) throw invalidLevel(level);
    const state = this.state;
    const index = levelIndex(level);
    if (index >= state.pendingSignal) {
      state.pendingSignal = index;
      state.signalSource = this.source;
      state.signalReason = reason;
    }
    state.signalTime = state.scheduler.now();
    state.scheduleWork();
  }

  listen(level: PressureLevel, mode: PressureMode = 'default'): Observable<PressureEvent> {
    if (!isPressureLevel(level)) throw invalidLevel(level);
    if (!isPressureMode(mode)) {
      throw new MemshedError('invalid-argument', `Unknown pressure mode '${String(mode)}'`, {
        fix: "use 'default', 'hierarchy' or 'local'",
      });
    }
    const state = this.state;
    const index = levelIndex(level);
    return new Observable<PressureEvent>((subscriber) => {
      if (state.engine.disposed) {
        subscriber.complete();
        return;
      }
      const registration: Registration = {
        level: index,
        skipWhenAncestor: mode === 'local',
        skipWhenSignalled: mode === 'default',
        subscriber,
      };
      state.register(registration);
      return () => state.unregister(registration);
    });
  }

  socketPressure(): boolean {
    return this.state.scheduler.now() < this.state.socketPressureUntil;
  }

  withSource(source: string): PressureNode {
    return this.state.engine.handle(this.state, source);
  }
}

/** `vmpressure(tree = false)`: the node's own window, read by {@link PressureNode.socketPressure}. */
function accountSocket(state: VmpressureState, scanned: number, reclaimed: number): void {
  // "For now, no users for root-level efficiency."
  if (state.parent === undefined) return;
  state.reclaimed += reclaimed;
  if ((state.scanned += scanned) < state.window) return;
  const pressure = vmpressurePercent(state.scanned, state.reclaimed);
  state.scanned = 0;
  state.reclaimed = 0;
  if (pressure >= VMPRESSURE_LEVEL_MEDIUM) {
    state.socketPressureUntil = state.scheduler.now() + SOCKET_PRESSURE_HOLD_MS;
  }
}

function invalidLevel(level: unknown): MemshedError {
  return new MemshedError('invalid-argument', `Unknown pressure level '${String(level)}'`, {
    fix: "use 'low', 'medium' or 'critical'",
  });
}

function invalidCount(count: unknown): MemshedError {
  return new MemshedError(
    'invalid-argument',
    `Reclaimed page count must be a non-negative number, got ${String(count)}`,
  );
}

/** Normalises a node path: absolute, no empty, `.` or `..` segments, no trailing slash. */
export function normalizePath(path: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new MemshedError(
      'invalid-argument',
      `Node path must be absolute ('/' or '/a/b'), got '${String(path)}'`,
    );
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new MemshedError('invalid-argument', `Node path must not contain '.' or '..' segments: '${path}'`);
  }
  return '/' + segments.join('/');
}

function parentPath(path: string): string | undefined {
  if (path === '/') return undefined;
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}

class VmpressureEngine implements PressureEngine {
  readonly window: number;
  readonly scheduler: SchedulerLike;
  disposed = false;
  private readonly defaultSource: string;
  private readonly states = new Map<string, VmpressureState>();

  constructor(options: EngineOptions) {
    const window = options.window ?? VMPRESSURE_WINDOW;
    if (!Number.isInteger(window) || window < 1) {
      throw new MemshedError(
        'invalid-argument',
        `Engine window must be a positive integer of pages, got ${window}`,
        {
          fix: `omit it for the kernel's ${VMPRESSURE_WINDOW}`,
        },
      );
    }
    this.window = window;
    this.scheduler = options.scheduler ?? loopScheduler;
    this.defaultSource = options.source ?? 'engine';
  }

  node(path: string, source: string = this.defaultSource): PressureNode {
    return this.handle(this.state(normalizePath(path)), source);
  }

  paths(): string[] {
    return [...this.states.keys()];
  }

  handle(state: VmpressureState, source: string): NodeHandle {
    let handle = state.handles.get(source);
    if (!handle) {
      handle = new NodeHandle(state, source);
      state.handles.set(source, handle);
    }
    return handle;
  }

  private state(path: string): VmpressureState {
    let state = this.states.get(path);
    if (!state) {
      const parent = parentPath(path);
      state = new VmpressureState(this, path, parent === undefined ? undefined : this.state(parent));
      this.states.set(path, state);
    }
    return state;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const state of this.states.values()) {
      state.work?.unsubscribe();
      state.workPending = true; // never schedule again
      for (const registration of state.registrations) registration.subscriber.complete();
      state.registrations = [];
    }
  }
}

/**
 * Creates a vmpressure engine: the kernel's `mm/vmpressure.c` in user space. Every source feeds
 * it through `account()`, `accountPriority()` or `signal()`; listeners get events with the
 * kernel's windowing, thresholds and propagation rules.
 *
 * @example
 * const engine = createEngine();
 * const app = engine.node('/app', 'my-source');
 * app.listen('medium').subscribe((event) => trimCaches(event.level));
 * app.account(512, 100); // 80% of a window failed: medium
 */
export function createEngine(options: EngineOptions = {}): PressureEngine {
  return new VmpressureEngine(options);
}
