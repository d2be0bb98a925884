/**
 * Real cgroup v1 memory cgroups for kernel tests.
 *
 * Every cgroup is created beneath this process's own memory cgroup (the `memory:` line of
 * /proc/self/cgroup, below /sys/fs/cgroup/memory), always with a limit (a child without its own
 * limit is bounded by its parent's), and always removed: by `remove()`, by `withTestCgroup`'s
 * `finally` (also on timeout), by `removeAllTestCgroups()` in an `afterAll`, and as a last resort
 * by a synchronous sweep when the process exits. Leftovers of a crashed run (a dead owner pid in
 * the name) are swept the next time a cgroup is created.
 *
 * Only tasks that live inside a test cgroup are ever killed, by PID: those are the processes the
 * test started there with `spawn()`.
 */
import { spawn as spawnProcess } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where the v1 memory controller is mounted on this kind of machine. */
export const MEMORY_CGROUP_MOUNT = '/sys/fs/cgroup/memory';

/** One MiB, for limits written as `64 * MiB`. */
export const MiB = 1024 * 1024;

/** Options of {@link createTestCgroup}. */
export interface TestCgroupOptions {
  /** A readable part of the directory name (letters, digits, dashes). */
  name?: string;
  /** memory.limit_in_bytes. Required: a test cgroup always has a limit. */
  limitBytes: number;
  /** Create beneath this cgroup instead of beneath this process's own memory cgroup. */
  parent?: TestCgroup;
}

/** What memory.oom_control says. */
export interface OomControl {
  /** 1 when the OOM killer is disabled for the cgroup (tasks then wait instead). */
  oomKillDisable: number;
  /** 1 while the cgroup is under OOM. */
  underOom: number;
  /** How many tasks the OOM killer killed in this cgroup. */
  oomKill: number;
}

/** A live test cgroup. */
export interface TestCgroup {
  /** Absolute directory, e.g. /sys/fs/cgroup/memory/process_api/x/memshed-test-123-1-low. */
  readonly path: string;
  /** The path below the mount, e.g. /process_api/x/memshed-test-123-1-low. */
  readonly relativePath: string;
  /** memory.usage_in_bytes now. */
  usage(): number;
  /** memory.oom_control now. */
  oomControl(): OomControl;
  /** Starts `command args` inside this cgroup (it joins before `exec`, so everything it charges is here). */
  spawn(command: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  /** A child cgroup (its own limit when given, else bounded by this one). Removed with this one. */
  child(name: string, limitBytes?: number): Promise<TestCgroup>;
  /** Kills the tasks inside (this and descendants), then rmdir, deepest first. Idempotent. */
  remove(): Promise<void>;
}

const NAME_PREFIX = 'memshed-test-';
let sequence = 0;
const live = new Set<CgroupHandle>();
let exitHookInstalled = false;

/** The path of this process's memory cgroup below the mount (e.g. '/process_api/x'), or undefined. */
export function ownMemoryCgroup(): string | undefined {
  const text = fs.readFileSync('/proc/self/cgroup', 'utf8');
  for (const line of text.split('\n')) {
    const [, controllers, cgroupPath] = line.split(':');
    if (controllers !== undefined && controllers.split(',').includes('memory')) return cgroupPath;
  }
  return undefined;
}

/**
 * Why real-cgroup tests cannot run here, or undefined when they can (v1 memory controller
 * mounted, own cgroup found, and a child can be created in it).
 */
export function testCgroupsUnavailableReason(): string | undefined {
  if (!fs.existsSync(path.join(MEMORY_CGROUP_MOUNT, 'cgroup.event_control')))
    return `no cgroup v1 memory controller at ${MEMORY_CGROUP_MOUNT}`;
  const own = ownMemoryCgroup();
  if (own === undefined) return 'no memory line in /proc/self/cgroup';
  try {
    fs.accessSync(path.join(MEMORY_CGROUP_MOUNT, own), fs.constants.W_OK);
  } catch {
    return `cannot create cgroups in ${path.join(MEMORY_CGROUP_MOUNT, own)} (not writable; run as root)`;
  }
  return undefined;
}

/** Creates a memory cgroup beneath this process's own (or beneath `options.parent`). */
export async function createTestCgroup(options: TestCgroupOptions): Promise<TestCgroup> {
  if (!(options.limitBytes > 0)) throw new Error('a test cgroup needs a positive limitBytes');
  const name = `${NAME_PREFIX}${process.pid}-${++sequence}${options.name ? `-${sanitize(options.name)}` : ''}`;
  if (options.parent) return options.parent.child(name, options.limitBytes);
  const own = ownMemoryCgroup();
  if (own === undefined) throw new Error('this process has no cgroup v1 memory cgroup (/proc/self/cgroup)');
  const parentDir = path.join(MEMORY_CGROUP_MOUNT, own);
  sweepStale(parentDir);
  installExitHook();
  const handle = new CgroupHandle(path.join(parentDir, name), undefined);
  handle.create(options.limitBytes);
  live.add(handle);
  return handle;
}

/** Options of {@link withTestCgroup} besides the cgroup's. */
export interface WithTestCgroupOptions extends TestCgroupOptions {
  /** Reject (and remove the cgroup) when `fn` has not settled after this long. Default 60 s. */
  timeoutMs?: number;
}

/** Runs `fn` with a fresh test cgroup and removes it afterwards, whatever happens (error, timeout). */
export async function withTestCgroup<T>(
  options: WithTestCgroupOptions,
  fn: (cgroup: TestCgroup) => Promise<T> | T,
): Promise<T> {
  const cgroup = await createTestCgroup(options);
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => fn(cgroup)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`withTestCgroup: timed out after ${timeoutMs} ms (${cgroup.relativePath})`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await cgroup.remove();
  }
}

/**
 * Removes every test cgroup this process created and has not removed yet, and the workload file:
 * call it in `afterAll`. (Jest sandboxes `process`, so the exit hook below does not fire under
 * jest; it is only the last resort for plain node scripts such as the benchmarks.)
 */
export async function removeAllTestCgroups(): Promise<void> {
  for (const handle of [...live]) await handle.remove();
  removeWorkloadFileSync();
}

/** Resolves once `child` has exited (at once if it already has); never rejects. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

class CgroupHandle implements TestCgroup {
  readonly relativePath: string;
  private readonly children: CgroupHandle[] = [];
  private removed = false;

  constructor(
    readonly path: string,
    private readonly parentHandle: CgroupHandle | undefined,
  ) {
    this.relativePath = '/' + path.slice(MEMORY_CGROUP_MOUNT.length).replace(/^\/+/, '');
  }

  create(limitBytes: number | undefined): void {
    fs.mkdirSync(this.path);
    try {
      if (limitBytes !== undefined) fs.writeFileSync(this.file('memory.limit_in_bytes'), String(limitBytes));
    } catch (error) {
      fs.rmdirSync(this.path);
      throw error;
    }
  }

  usage(): number {
    return Number(fs.readFileSync(this.file('memory.usage_in_bytes'), 'utf8'));
  }

  oomControl(): OomControl {
    const fields = new Map<string, number>();
    for (const line of fs.readFileSync(this.file('memory.oom_control'), 'utf8').split('\n')) {
      const [key, value] = line.split(' ');
      if (key) fields.set(key, Number(value));
    }
    return {
      oomKillDisable: fields.get('oom_kill_disable') ?? 0,
      underOom: fields.get('under_oom') ?? 0,
      oomKill: fields.get('oom_kill') ?? 0,
    };
  }

  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    if (this.removed) throw new Error(`test cgroup ${this.relativePath} was removed`);
    // The shell joins the cgroup, then execs the command: same pid, and every page the command
    // touches from its first instruction on is charged here.
    return spawnProcess(
      '/bin/sh',
      ['-c', 'echo $$ > "$0" && exec "$@"', this.file('cgroup.procs'), command, ...args],
      options,
    );
  }

  async child(name: string, limitBytes?: number): Promise<TestCgroup> {
    if (this.removed) throw new Error(`test cgroup ${this.relativePath} was removed`);
    const handle = new CgroupHandle(path.join(this.path, sanitize(name)), this);
    handle.create(limitBytes);
    this.children.push(handle);
    return handle;
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    for (const child of [...this.children]) await child.remove();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const pids = this.tasks();
      for (const pid of pids) killQuietly(pid);
      if (pids.length === 0) {
        try {
          fs.rmdirSync(this.path);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() > deadline) throw error;
        }
      } else if (Date.now() > deadline) {
        throw new Error(`test cgroup ${this.relativePath}: tasks ${pids.join(', ')} would not die`);
      }
      // SIGKILLed tasks leave the cgroup when they have exited; poll briefly rather than sleep long.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.removed = true;
    live.delete(this);
    if (this.parentHandle) {
      const index = this.parentHandle.children.indexOf(this);
      if (index >= 0) this.parentHandle.children.splice(index, 1);
    }
  }

  /** Synchronous best effort for the exit hook. */
  removeSync(): void {
    if (this.removed) return;
    for (const child of [...this.children]) child.removeSync();
    removeTreeSync(this.path);
    this.removed = true;
  }

  private tasks(): number[] {
    try {
      return parsePids(fs.readFileSync(this.file('cgroup.procs'), 'utf8'));
    } catch {
      return [];
    }
  }

  private file(name: string): string {
    return path.join(this.path, name);
  }
}

function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, '-');
}

/** Kills the tasks of a cgroup tree and removes it, deepest first, synchronously (bounded wait). */
function removeTreeSync(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) removeTreeSync(path.join(dir, entry.name));
  const deadline = Date.now() + 5_000;
  for (;;) {
    let pids: number[] = [];
    try {
      pids = parsePids(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8'));
    } catch {
      return;
    }
    for (const pid of pids) killQuietly(pid);
    try {
      fs.rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || Date.now() > deadline) return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** Removes leftovers of earlier runs whose owner process is gone (crash, SIGKILL). */
function sweepStale(parentDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(parentDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = /^memshed-test-(\d+)-/.exec(entry);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner === process.pid || isAlive(owner)) continue;
    removeTreeSync(path.join(parentDir, entry));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const handle of live) handle.removeSync();
    removeWorkloadFileSync();
  });
}

// ---------------------------------------------------------------------------------------------
// The workload file: 512 MiB, written by this process (outside any test cgroup)
// and evicted from the page cache, so that a reader inside a test cgroup charges every page it
// reads to that cgroup. One file per test process, removed when it exits.

/** Size of the workload file. */
export const WORKLOAD_FILE_BYTES = 512 * MiB;

/** The workload script: `node workload.js --file F [--hold MiB] [--read] [--duration ms]`. */
export const WORKLOAD_SCRIPT = path.join(__dirname, 'workload.js');

let workloadFile: string | undefined;

/**
 * The path of a 512 MiB file for the workload to read, created on first use (once per process)
 * and evicted from the page cache each time this is called.
 */
export function prepareWorkloadFile(): string {
  if (workloadFile === undefined) {
    const file = path.join(os.tmpdir(), `memshed-workload-${process.pid}.bin`);
    installExitHook();
    sweepStaleWorkloadFiles();
    // Jest gives each test file its own module registry: reuse this process's file if complete.
    if (fileSize(file) === WORKLOAD_FILE_BYTES) {
      workloadFile = file;
      evictFromPageCache(file);
      return file;
    }
    const fd = fs.openSync(file, 'w');
    try {
      // Random-ish content, not zeros: a filesystem could keep a zero file sparse.
      const chunk = Buffer.alloc(4 * MiB);
      for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
      for (let written = 0; written < WORKLOAD_FILE_BYTES; written += chunk.length) fs.writeSync(fd, chunk);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    workloadFile = file;
  }
  evictFromPageCache(workloadFile);
  return workloadFile;
}

/** Drops a file's clean pages from the page cache (posix_fadvise DONTNEED through dd). */
export function evictFromPageCache(file: string): void {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

/** Deletes workload files left by runs that died before their cleanup. */
function sweepStaleWorkloadFiles(): void {
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const match = /^memshed-workload-(\d+)\.bin$/.exec(entry);
    if (match && Number(match[1]) !== process.pid && !isAlive(Number(match[1]))) {
      fs.rmSync(path.join(os.tmpdir(), entry), { force: true });
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function removeWorkloadFileSync(): void {
  if (workloadFile === undefined) return;
  try {
    fs.unlinkSync(workloadFile);
  } catch {
    // Already gone.
  }
  workloadFile = undefined;
}

/** Options of {@link spawnWorkload}. */
export interface WorkloadOptions {
  /** Read the workload file in a loop (page-cache churn: reclaim of clean file pages). Default true. */
  read?: boolean;
  /** MiB of anonymous memory to allocate, touch and hold before reading. Default 0. */
  holdMiB?: number;
  /** MiB to allocate per step, to grow towards `holdMiB` gradually (a step every `everyMs`). */
  stepMiB?: number;
  /** Milliseconds between steps. Default 10. */
  everyMs?: number;
  /** Exit after this long (ms). Default: run until killed. */
  durationMs?: number;
  /** Wait for the workload's `ready` line (memory held). Default true; false for workloads meant to die. */
  waitReady?: boolean;
}

/**
 * Starts the workload inside `cgroup` and resolves once it says it is ready (memory held, reading
 * started). The file is prepared (created once, evicted) first, outside the cgroup.
 */
export async function spawnWorkload(
  cgroup: TestCgroup,
  options: WorkloadOptions = {},
): Promise<ChildProcess> {
  const args = [WORKLOAD_SCRIPT];
  if (options.read ?? true) args.push('--read', '--file', prepareWorkloadFile());
  if (options.holdMiB) args.push('--hold', String(options.holdMiB));
  if (options.stepMiB) args.push('--step', String(options.stepMiB));
  if (options.everyMs !== undefined) args.push('--every', String(options.everyMs));
  if (options.durationMs !== undefined) args.push('--duration', String(options.durationMs));
  const child = cgroup.spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  if (options.waitReady === false) {
    child.stdout?.resume();
    return child;
  }
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const onData = (data: Buffer) => {
      buffered += data.toString();
      if (buffered.includes('ready\n')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`workload exited before it was ready (code ${code}, signal ${signal})`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  // Keep draining stdout so the workload never blocks on a full pipe.
  child.stdout?.resume();
  return child;
}
