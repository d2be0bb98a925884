import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  spawnWorkload,
  testCgroupsUnavailableReason,
  withTestCgroup,
} from './support/cgroup';

// `memshed watch --json` end to end: the built CLI (npm test builds first) in a child process,
// a real workload in a real memory cgroup.
const unavailable = testCgroupsUnavailableReason();
if (unavailable) console.warn(`cli watch kernel tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;
const BIN = path.resolve(__dirname, '../../packages/cli/dist/bin.js');

afterAll(() => removeAllTestCgroups());

/** Runs `memshed ...args` to completion and returns its exit code and output. */
async function memshed(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await exited(child);
  return { code, stdout, stderr };
}

describeKernel('memshed watch --json (real kernel)', () => {
  it.each([['vmstat'], ['psi']])(
    '--source %s prints one JSON event per line under pressure',
    async (id) => {
      await withTestCgroup(
        { name: `watch-${id}`, limitBytes: 64 * MiB, timeoutMs: 40_000 },
        async (cgroup) => {
          const workload = await spawnWorkload(cgroup, { holdMiB: 40 });
          try {
            const result = await memshed(['watch', '--source', id, '--json', '--count', '1', '--for', '15s']);
            expect(result.code).toBe(0);
            const lines = result.stdout.trim().split('\n');
            expect(lines).toHaveLength(1);
            const event = JSON.parse(lines[0]) as Record<string, unknown>;
            expect(event).toMatchObject({
              source: id,
              scope: '/',
              level: expect.stringMatching(/^(low|medium|critical)$/),
            });
            expect(typeof event.time).toBe('string');
            expect(result.stderr).toContain(`watching ${id}`);
          } finally {
            workload.kill('SIGKILL');
            await exited(workload);
          }
        },
      );
    },
    60_000,
  );
});
