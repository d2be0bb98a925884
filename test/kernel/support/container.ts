/**
 * Containers as they run, built from namespaces on this machine, for kernel tests: a command runs
 * inside a test memory cgroup (test/kernel/support/cgroup.ts, removed afterwards) and, per
 * {@link ContainerKind}, as a non-root user without capabilities, with the cgroup filesystem
 * read-only, in its own cgroup namespace, or with its group bind-mounted as
 * /sys/fs/cgroup/memory as runc does.
 *
 * Mount changes happen in a new mount namespace (`unshare -m`), so the machine's mounts are never
 * touched; the namespaces end with the command. The user is dropped last (`setpriv`), after the
 * mounts that need root. Every command is bounded by a timeout and killed by PID when it runs over.
 */
import { execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MEMORY_CGROUP_MOUNT, exited, testCgroupsUnavailableReason, type TestCgroup } from './cgroup';

/** The environments a service meets (see each {@link CONTAINERS} entry). */
export type ContainerKind =
  'root' | 'non-root' | 'read-only' | 'non-root-read-only' | 'cgroup-namespace' | 'runc-bind';

/** What an environment is made of. */
export interface ContainerSpec {
  readonly kind: ContainerKind;
  /** What it stands for. */
  readonly description: string;
  /** The user the command runs as: 0, or 1000 without any capability. */
  readonly uid: 0 | 1000;
  /** /sys/fs/cgroup/memory is mounted read-only inside. */
  readonly readOnly: boolean;
  /** The command's own cgroup namespace: its group is `/` in /proc/self/cgroup. */
  readonly cgroupNamespace: boolean;
  /** Its group is bind-mounted as /sys/fs/cgroup/memory (the mount's root is the group). */
  readonly bind: boolean;
}

/** Every environment, in the order the tests and docs/platforms.md list them. */
export const CONTAINERS: readonly ContainerSpec[] = [
  {
    kind: 'root',
    description: 'root, the host mounts (a privileged container, a VM, this CI)',
    uid: 0,
    readOnly: false,
    cgroupNamespace: false,
    bind: false,
  },
  {
    kind: 'non-root',
    description: 'uid 1000 without capabilities, writable cgroupfs (a service user on a host)',
    uid: 1000,
    readOnly: false,
    cgroupNamespace: false,
    bind: false,
  },
  {
    kind: 'read-only',
    description: 'root, /sys/fs/cgroup/memory read-only',
    uid: 0,
    readOnly: true,
    cgroupNamespace: false,
    bind: false,
  },
  {
    kind: 'non-root-read-only',
    description: 'uid 1000 without capabilities, read-only cgroupfs (a hardened container)',
    uid: 1000,
    readOnly: true,
    cgroupNamespace: false,
    bind: false,
  },
  {
    kind: 'cgroup-namespace',
    description:
      "root in its own cgroup namespace, cgroupfs mounted inside it (cgroupns=private): the group is '/'",
    uid: 0,
    readOnly: false,
    cgroupNamespace: true,
    bind: false,
  },
  {
    kind: 'runc-bind',
    description: "root, the group bind-mounted read-only as /sys/fs/cgroup/memory (runc's v1 layout)",
    uid: 0,
    readOnly: true,
    cgroupNamespace: false,
    bind: true,
  },
];

/** The spec of `kind`. */
export function containerSpec(kind: ContainerKind): ContainerSpec {
  const spec = CONTAINERS.find((entry) => entry.kind === kind);
  if (!spec) throw new Error(`unknown container kind '${kind}'`);
  return spec;
}

/** Drops to uid/gid 1000 with no supplementary groups and no inheritable capabilities. */
const NON_ROOT = ['setpriv', '--reuid', '1000', '--regid', '1000', '--clear-groups', '--inh-caps=-all'];

/**
 * The first directory on the way to the checkout that other users cannot enter (`/root` for a
 * checkout under root's home, as CI may clone it), or undefined when uid 1000 can reach it.
 */
function blockedAncestor(directory: string = REPOSITORY): string | undefined {
  const parts = directory.split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const ancestor = path.sep + parts.slice(0, i).join(path.sep);
    if ((fs.statSync(ancestor).mode & 0o001) === 0) return ancestor;
  }
  return undefined;
}

/**
 * Shell commands that let uid 1000 reach the checkout at its own path, whatever directory it is
 * in, without touching the machine: inside the new mount namespace, the checkout is bound aside
 * (on /mnt), a tmpfs covers the directory others cannot enter, the path down to the checkout is
 * made on it, and the checkout is bound back there. Nothing outside the namespace changes.
 */
function exposeCheckout(): string[] {
  const blocked = blockedAncestor();
  if (blocked === undefined) return [];
  return [
    `mount --bind '${REPOSITORY}' /mnt`,
    `mount -t tmpfs -o mode=755 memshed-checkout '${blocked}'`,
    `mkdir -p '${REPOSITORY}'`,
    `mount --bind /mnt '${REPOSITORY}'`,
    'umount /mnt',
  ];
}

/** The shell commands that build the environment's mounts, run as root in the new mount namespace. */
function mountSetup(spec: ContainerSpec, groupDirectory: string | undefined): string[] {
  const steps: string[] = spec.uid === 0 ? [] : exposeCheckout();
  if (spec.cgroupNamespace) {
    // A mount made before `unshare -C` shows the host's hierarchy (root `/../..`); mounting anew
    // inside the namespace roots it at the group, as container runtimes do.
    steps.push(`umount ${MEMORY_CGROUP_MOUNT}`);
    steps.push(`mount -t cgroup -o memory${spec.readOnly ? ',ro' : ''} memshed ${MEMORY_CGROUP_MOUNT}`);
    return steps;
  }
  if (spec.bind) steps.push(`mount --bind '${groupDirectory}' ${MEMORY_CGROUP_MOUNT}`);
  if (spec.readOnly) steps.push(`mount -o remount,bind,ro ${MEMORY_CGROUP_MOUNT}`);
  return steps;
}

/**
 * A launch wrapper: `argv` (a command and its arguments) as it must be run, once inside the test
 * cgroup, to find itself in environment `kind`. `groupDirectory` is the group's directory, which
 * only `runc-bind` needs. Pass it to `TestCgroup.spawn(wrapped[0], wrapped.slice(1))`, which joins the group
 * first: the cgroup namespace is then rooted at the group.
 */
export function containerWrapper(
  kind: ContainerKind,
  groupDirectory?: string,
): (argv: readonly string[]) => string[] {
  const spec = containerSpec(kind);
  if (spec.bind && groupDirectory === undefined)
    throw new Error(`container '${kind}' needs the group's directory`);
  const setup = mountSetup(spec, groupDirectory);
  return (argv) => {
    const user = spec.uid === 0 ? [] : NON_ROOT;
    if (setup.length === 0 && !spec.cgroupNamespace) return [...user, ...argv];
    return [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      ...(spec.cgroupNamespace ? ['--cgroup'] : []),
      '/bin/sh',
      '-c',
      `${setup.join(' && ')} && exec "$@"`,
      'container-setup',
      ...user,
      ...argv,
    ];
  };
}

/** Starts `argv` in `cgroup`, in environment `kind`. */
export function spawnInContainer(
  kind: ContainerKind,
  cgroup: TestCgroup,
  argv: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const wrapped = containerWrapper(kind, cgroup.path)(argv);
  return cgroup.spawn(wrapped[0], wrapped.slice(1), options);
}

/** How a command run by {@link runInContainer} ended. */
export interface ContainerRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** It ran over its timeout and was killed. */
  readonly timedOut: boolean;
}

/** Runs `argv` in `cgroup`, in environment `kind`, to its end or `timeoutMs` (then SIGKILL by PID). */
export async function runInContainer(
  kind: ContainerKind,
  cgroup: TestCgroup,
  argv: readonly string[],
  timeoutMs = 20_000,
): Promise<ContainerRun> {
  const child = spawnInContainer(kind, cgroup, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const { code, signal } = await exited(child);
  clearTimeout(timer);
  return { code, signal, stdout, stderr, timedOut };
}

function onPath(command: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why container tests cannot run here, or undefined when they can: test cgroups (root, cgroup v1),
 * `unshare` and `setpriv`, and every file in `readable` (the built checkout, the workload file)
 * readable by uid 1000, which the non-root environments run as.
 */
export function containersUnavailableReason(readable: readonly string[]): string | undefined {
  const cgroups = testCgroupsUnavailableReason();
  if (cgroups) return cgroups;
  for (const command of ['unshare', 'setpriv']) {
    if (!onPath(command)) return `${command} (util-linux) is not installed`;
  }
  for (const file of readable) {
    if (!fs.existsSync(file)) return `${file} is missing (run npm run build first)`;
    // As the non-root environments see it: through the same mount namespace that exposes the
    // checkout (exposeCheckout), so a checkout under /root is readable there too.
    const check = containerWrapper('non-root')(['/bin/sh', '-c', 'test -r "$0"', file]);
    try {
      execFileSync(check[0], check.slice(1), { stdio: 'ignore', timeout: 10_000 });
    } catch {
      return (
        `${file} is not readable by uid 1000, which the non-root environments run as, even with the ` +
        `checkout exposed in their mount namespace: make the checkout's files world-readable (umask 022)`
      );
    }
  }
  return undefined;
}

/** The repository root, for the built files the environments run. */
export const REPOSITORY = path.resolve(__dirname, '../../..');
