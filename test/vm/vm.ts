/**
 * A real cgroup v2 kernel for kernel tests: this machine's Debian kernel booted under QEMU (TCG) with
 * a busybox initramfs, this machine's / mounted read-only over virtio-9p and the checkout at its own
 * path, cgroup2 at /sys/fs/cgroup with the memory controller, PSI on, and a fresh tmpfs at /tmp.
 * One command runs as root per boot; its output and exit status come back.
 *
 * Needs Debian's qemu-system-x86, linux-image-amd64, busybox-static and cpio (`.ci/run` installs
 * them as root); {@link vmUnavailableReason} says which is missing. KVM is not used: on the CI
 * machines /dev/kvm belongs to a paravirtualised setup where a standard kernel hangs. Under TCG a
 * boot takes seconds and JIT-heavy JavaScript runs about 100 times slower: run short programs
 * inside (built JS, Python), never a test runner.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The checkout, which the guest sees at the same path. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/** Gitignored: initramfs per kernel version, and workload files (the guest's /tmp is its own tmpfs). */
export const VM_CACHE = path.join(__dirname, '.cache');

const BUILD_INITRAMFS = path.join(__dirname, 'build-initramfs.sh');
const QEMU = 'qemu-system-x86_64';

/** Options of {@link runInVm}. */
export interface VmRunOptions {
  /** Kill QEMU (by PID) after this long; the result then has `timedOut`. */
  timeoutMs: number;
  /** Guest memory, in QEMU's notation. Default 3G. */
  memory?: string;
  /** Guest CPUs. Default 2. */
  cpus?: number;
}

/** What one guest command did. */
export interface VmRunResult {
  /** The command's output (stdout and stderr), console carriage returns removed. */
  output: string;
  /** The command's exit status; undefined when the guest never reported one. */
  status: number | undefined;
  /** True when QEMU was killed at the timeout. */
  timedOut: boolean;
  /** Wall time from QEMU's start to its exit. */
  durationMs: number;
  /** Everything QEMU printed (boot messages included), for diagnosis. */
  console: string;
}

/** The newest installed kernel image, with its version. */
function newestKernel(): { image: string; version: string } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync('/boot').filter((name) => name.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  const versions = names
    .map((name) => name.slice('vmlinuz-'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  return version === undefined ? undefined : { image: `/boot/vmlinuz-${version}`, version };
}

/** True when a 64-bit ELF file asks for a program interpreter (a PT_INTERP header: dynamically linked). */
function hasInterpreter(file: string): boolean {
  const elf = fs.readFileSync(file);
  const headers = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  const PT_INTERP = 3;
  for (let i = 0; i < count; i++) if (elf.readUInt32LE(headers + i * size) === PT_INTERP) return true;
  return false;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}

/**
 * Why the VM cannot run here, with the fix; undefined when it can. Checks the tools and files only
 * (a boot takes seconds): the first {@link runInVm} is the real test.
 */
export function vmUnavailableReason(): string | undefined {
  const install =
    'install them as root: apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static cpio (.ci/run does)';
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `the cgroup v2 VM runs on linux-x64 only (this is ${process.platform}-${process.arch})`;
  const missing: string[] = [];
  if (!onPath(QEMU)) missing.push(`${QEMU} (qemu-system-x86)`);
  if (!onPath('cpio')) missing.push('cpio');
  // The guest scripts and their kernel-file references are Python (test/vm/guest/*.py).
  if (!fs.existsSync('/usr/bin/python3')) missing.push("/usr/bin/python3 (Debian's python3)");
  if (!fs.existsSync('/bin/busybox')) missing.push('/bin/busybox (busybox-static)');
  // The initramfs has no C library: Debian's dynamically linked busybox cannot run there.
  else if (hasInterpreter('/bin/busybox'))
    return "/bin/busybox is dynamically linked (Debian's busybox); install busybox-static as root: apt-get install -y busybox-static";
  const kernel = newestKernel();
  if (!kernel) missing.push('/boot/vmlinuz-* (linux-image-amd64)');
  else {
    try {
      fs.accessSync(kernel.image, fs.constants.R_OK);
    } catch {
      return `${kernel.image} is not readable by this user: run the VM tests as root`;
    }
    if (!fs.existsSync(`/lib/modules/${kernel.version}/kernel/fs/9p`))
      missing.push(`the 9p modules of ${kernel.version} (/lib/modules/${kernel.version}/kernel/fs/9p)`);
  }
  return missing.length ? `missing ${missing.join(', ')}; ${install}` : undefined;
}

/** The initramfs for the newest kernel, built once per kernel version into {@link VM_CACHE}. */
export function vmInitramfs(): { kernel: string; initramfs: string } {
  const kernel = newestKernel();
  if (!kernel) throw new Error('no /boot/vmlinuz-*: install linux-image-amd64');
  const initramfs = path.join(VM_CACHE, kernel.version, 'initramfs.gz');
  const stale =
    !fs.existsSync(initramfs) || fs.statSync(initramfs).mtimeMs < fs.statSync(BUILD_INITRAMFS).mtimeMs;
  if (stale) {
    fs.mkdirSync(path.dirname(initramfs), { recursive: true });
    execFileSync('bash', [BUILD_INITRAMFS, kernel.version, initramfs], { stdio: 'pipe' });
  }
  return { kernel: kernel.image, initramfs };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * Boots the VM, runs `command` with bash as root in the guest (working directory: the checkout),
 * and resolves when the guest powers off or the timeout kills QEMU. Never rejects for what the
 * command does; rejects only when QEMU cannot be started.
 */
export function runInVm(command: string, options: VmRunOptions): Promise<VmRunResult> {
  const { kernel, initramfs } = vmInitramfs();
  // The kernel command line is at most 2048 bytes: keep commands to a script and its arguments.
  const append = [
    'console=ttyS0',
    'quiet',
    // Kernel messages (an OOM kill is logged as an error) would interleave with the command's lines.
    'loglevel=1',
    'panic=-1',
    `vmrepo=${base64(REPO_ROOT)}`,
    `vmcmd=${base64(`cd ${JSON.stringify(REPO_ROOT)} && ${command}`)}`,
  ].join(' ');
  const args = [
    ...['-m', options.memory ?? '3G', '-smp', String(options.cpus ?? 2), '-accel', 'tcg,thread=multi'],
    ...['-kernel', kernel, '-initrd', initramfs, '-append', append, '-nographic', '-no-reboot'],
    ...['-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap'],
    ...['-virtfs', `local,path=${REPO_ROOT},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`],
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const qemu = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    qemu.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    qemu.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    let timedOut = false;
    const kill = () => {
      if (qemu.pid !== undefined && qemu.exitCode === null && qemu.signalCode === null)
        process.kill(qemu.pid, 'SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    // A test runner that exits mid-run (a timeout, Ctrl-C) must not leave the guest running.
    process.once('exit', kill);
    qemu.on('error', (error) => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      reject(error);
    });
    qemu.on('close', () => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      const consoleText = Buffer.concat(chunks).toString('utf8').replace(/\r/g, '');
      const start = consoleText.indexOf('vm-start\n');
      const body = start < 0 ? '' : consoleText.slice(start + 'vm-start\n'.length);
      const statusMatch = /^vm-exit-status (\d+)$/m.exec(body);
      const output = (statusMatch ? body.slice(0, statusMatch.index) : body)
        .split('\n')
        .filter((line) => !line.includes('reboot: Power down'))
        .join('\n');
      resolve({
        output,
        status: statusMatch ? Number(statusMatch[1]) : undefined,
        timedOut,
        durationMs: Date.now() - started,
        console: consoleText,
      });
    });
  });
}

/**
 * A sparse file of `bytes` in {@link VM_CACHE} for the guest to stream through a group's page
 * cache (reads of holes cost the host no disk, but fill the guest's page cache all the same).
 * Returns its path and a function that removes it.
 */
export function createStreamFile(bytes: number): { file: string; remove(): void } {
  fs.mkdirSync(VM_CACHE, { recursive: true });
  const file = path.join(VM_CACHE, `stream-${process.pid}-${process.hrtime.bigint()}.bin`);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, bytes);
  return { file, remove: () => fs.rmSync(file, { force: true }) };
}
