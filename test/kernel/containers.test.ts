import * as path from 'node:path';
import type { DoctorReport } from '@memshed/cli';
import { MiB, prepareWorkloadFile, removeAllTestCgroups, withTestCgroup } from './support/cgroup';
import {
  CONTAINERS,
  REPOSITORY,
  containersUnavailableReason,
  runInContainer,
  type ContainerKind,
  type ContainerSpec,
} from './support/container';

// Each source and `memshed doctor` in the environments a service meets (support/container.ts):
// it works, falls back to something that works and says so, or says why not with a fix that can
// be applied there. The built packages run, as in a container.
const BIN = path.join(REPOSITORY, 'packages/cli/dist/bin.js');
const PROBE = path.join(__dirname, 'support/container-probe.js');
const unavailable = containersUnavailableReason([
  BIN,
  PROBE,
  path.join(REPOSITORY, 'packages/core/dist/index.js'),
]);
if (unavailable) console.warn(`container kernel tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

afterAll(() => removeAllTestCgroups());

interface SourceLine {
  readonly id: string;
  readonly state: string;
  readonly detail?: string;
  readonly scope?: string;
  readonly error?: string;
}
type ProbeLine =
  | { readonly type: 'status'; readonly sources: readonly SourceLine[] }
  | { readonly type: 'idle'; readonly cpuMs: number; readonly wallMs: number }
  | { readonly type: 'event'; readonly source: string; readonly level: string; readonly scope: string }
  | { readonly type: 'done'; readonly heldMiB: number }
  | { readonly type: 'crash'; readonly error: string };

/** What cgroup-v1 (the only source that writes to the cgroupfs) can do in each environment. */
function cgroupV1Works(spec: ContainerSpec): boolean {
  return spec.uid === 0 && !spec.readOnly;
}

/** How a refusal must read: a read-only mount as such (no chown), a non-root user with the delegation fix. */
function expectRefusal(spec: ContainerSpec, reason: string, fix: string): void {
  if (spec.readOnly) {
    expect(reason).toMatch(
      /is on a read-only mount \(\/sys\/fs\/cgroup\/memory, cgroup\): nobody can write it here/,
    );
    expect(fix).not.toMatch(/^run as root/);
  } else {
    expect(reason).toMatch(/not permitted to write .*cgroup\.event_control/);
    expect(fix).toMatch(/delegate the cgroup to this user \(chown/);
  }
  expect(fix).toMatch(/the system source/);
}

const LIMIT = 256 * MiB;

describeKernel('containers on this machine (namespaces, real kernel)', () => {
  it.each(CONTAINERS.map((spec) => [spec.kind, spec] as [ContainerKind, ContainerSpec]))(
    '%s: every source works, falls back and says so, or says why not; doctor agrees',
    async (kind, spec) => {
      const file = prepareWorkloadFile();
      await withTestCgroup(
        { name: `container-${kind}`, limitBytes: LIMIT, timeoutMs: 50_000 },
        async (cgroup) => {
          const node = process.execPath;
          const json = await runInContainer(kind, cgroup, [node, BIN, 'doctor', '--json']);
          const text = await runInContainer(kind, cgroup, [node, BIN, 'doctor']);
          const probe = await runInContainer(
            kind,
            cgroup,
            [node, PROBE, '--fill', '176', '--file', file, '--seconds', '6'],
            25_000,
          );
          // Runtime notices (a Node deprecation) may reach stderr; errors and crashes may not.
          for (const run of [json, text, probe]) {
            expect({ timedOut: run.timedOut, code: run.code }).toEqual({ timedOut: false, code: 0 });
            expect(run.stderr).not.toMatch(/error|memshed:/i);
          }

          // doctor --json: the environment as seen from inside, and a default scoped to the group.
          const report = JSON.parse(json.stdout) as DoctorReport;
          expect(report.version).toBe(1);
          expect(report.environment.uid).toBe(spec.uid);
          expect(report.environment.memoryGroup).toEqual({
            kind: 'cgroup-v1',
            name: spec.cgroupNamespace ? '/' : cgroup.relativePath,
            directory: spec.bind || spec.cgroupNamespace ? '/sys/fs/cgroup/memory' : cgroup.path,
            limitBytes: LIMIT,
            readOnlyMount: spec.readOnly ? '/sys/fs/cgroup/memory' : null,
          });
          const doctorRow = (id: string) => report.sources.find((row) => row.id === id)!;
          expect(report.defaultSource).toBe(cgroupV1Works(spec) ? 'cgroup-v1' : 'system');
          expect(doctorRow(report.defaultSource!).scope).toBe('cgroup');
          for (const id of ['psi', 'vmstat']) {
            expect(doctorRow(id)).toMatchObject({
              available: true,
              scope: 'host',
              detail: expect.stringMatching(/^host-wide: /),
            });
          }
          if (cgroupV1Works(spec))
            expect(doctorRow('cgroup-v1')).toMatchObject({ available: true, scope: 'cgroup' });
          else {
            const row = doctorRow('cgroup-v1');
            expect(row.available).toBe(false);
            expectRefusal(spec, row.reason!, row.hint!);
          }
          expect(text.stdout).toContain(`Default source here: ${report.defaultSource} `);
          if (spec.readOnly) expect(text.stdout).toContain('on a read-only mount (/sys/fs/cgroup/memory)');

          // The sources as a service starts them.
          const lines = probe.stdout
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as ProbeLine);
          expect(lines.filter((line) => line.type === 'crash')).toEqual([]);
          const status = lines.find((line) => line.type === 'status')!;
          const source = (id: string) =>
            (status as { sources: readonly SourceLine[] }).sources.find((s) => s.id === id)!;
          for (const id of ['system', 'psi', 'vmstat', 'v8']) expect(source(id).state).toBe('running');
          expect(source('psi').scope).toBe('host');
          expect(source('vmstat').scope).toBe('host');
          expect(source('system').scope).toBe('cgroup');
          if (cgroupV1Works(spec)) {
            expect(source('cgroup-v1')).toMatchObject({ state: 'running', scope: 'cgroup' });
            expect(source('system').detail).toContain('(usage thresholds by eventfd)');
          } else {
            expect(source('cgroup-v1').state).toBe('unavailable');
            const [reason, fix] = source('cgroup-v1').error!.split('. Fix: ');
            expectRefusal(spec, reason, fix);
            // The fallback is named where the status is shown, with why.
            expect(source('system').detail).toMatch(
              spec.readOnly
                ? /\(polled every 250 ms: usage thresholds unavailable, .*is on a read-only mount/
                : /\(polled every 250 ms: usage thresholds unavailable, not permitted to write/,
            );
          }

          // Nothing busy-loops: CPU time of the idle process with every source running. A busy loop
          // would take the whole 2 s; polling every 250 ms takes a few ms.
          const idle = lines.find((line) => line.type === 'idle') as { cpuMs: number; wallMs: number };
          expect(idle.cpuMs).toBeLessThan(0.25 * idle.wallMs);

          // The container-scoped source sees the container fill up.
          const events = lines.filter((line) => line.type === 'event') as { source: string; level: string }[];
          expect(events.filter((e) => e.source === 'system').map((e) => e.level)).toEqual(
            expect.arrayContaining([expect.stringMatching(/^(medium|critical)$/)]),
          );
          expect(lines.at(-1)).toMatchObject({ type: 'done', heldMiB: 176 });
          const seen = [...new Set(events.map((e) => `${e.source}:${e.level}`))].sort();
          console.log(
            `${kind}: events ${seen.join(', ') || 'none'}; idle CPU ${idle.cpuMs.toFixed(0)} ms in ${idle.wallMs.toFixed(0)} ms`,
          );
        },
      );
    },
    60_000,
  );
});
