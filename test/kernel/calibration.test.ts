/**
 * The calibration harness (test/calibration/calibrate.js) against the real kernel, once, on one
 * workload: `stream-squeeze` (64M group, 52M anonymous, a 512 MiB file read in a loop). It runs the
 * built packages (run `npm run build` first), like `npm run calibrate`. Asserts kinds, not counts:
 * the kernel's shares move with the machine's load (docs/sources/vmscan-sim.md, Calibration).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeAvailability } from '@memshed/native';
import type { CalibrationFigures, KernelMedians } from '@memshed/source-vmscan-sim';
import { testCgroupsUnavailableReason } from './support/cgroup';

const HARNESS = path.join(__dirname, '../calibration/calibrate.js');
const BUILT = path.join(__dirname, '../../packages/source-vmscan-sim/dist/calibration.js');

function hasCompiler(): boolean {
  return ['/usr/bin/cc', '/usr/local/bin/cc'].some((file) => fs.existsSync(file));
}

const native = nativeAvailability();
const unavailable =
  testCgroupsUnavailableReason() ??
  (native.available ? undefined : native.reason) ??
  (hasCompiler() ? undefined : 'no C compiler (cc) for the calibration workload') ??
  (fs.existsSync(BUILT) ? undefined : 'the packages are not built (npm run build)');
if (unavailable) console.warn(`calibration kernel test skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

jest.setTimeout(60_000);

describeKernel('calibration harness on the kernel', () => {
  it('stream-squeeze: medium and critical windows without an OOM kill, on the kernel and in the model', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [HARNESS, '--runs', '1', '--workload', 'stream-squeeze', '--json'],
        { timeout: 50_000, maxBuffer: 1 << 20 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      ),
    );
    const { medians, rows } = JSON.parse(stdout) as {
      medians: KernelMedians;
      rows: { workload: string; kernel: CalibrationFigures; simulated: CalibrationFigures }[];
    };
    expect(medians.kernel).toMatch(/^Linux /);
    const [row] = rows;
    expect(row.workload).toBe('stream-squeeze');
    for (const side of [row.kernel, row.simulated]) {
      expect(side.oomMs).toBeNull();
      expect(side.mediumShare).toBeGreaterThan(0.03);
      expect(side.criticalShare).toBeGreaterThan(0);
      expect(side.firstMediumMs).not.toBeNull();
    }
  });
});
