import { VMPRESSURE_WINDOW, type PressureEvent } from '@memshed/core';
import { validateScenario } from './scenario-loader';
import type { Scenario, ScenarioInput } from './scenario';
import { Simulation } from './simulation';
import { IO_PER_SCAN } from './vmscan';

// The calibration workloads, shared by the harness (test/calibration/calibrate.js, which runs them on
// the real kernel) and by the fixture test (calibration.test.ts, which holds the model to the
// kernel's committed medians): one definition, so that both sides run the same thing.

/** MiB, for the workloads' sizes. */
const MiB = 1024 * 1024;

/**
 * One calibration workload: what runs in a real memory cgroup (test/calibration/workload.c) and,
 * written as a scenario, in the model.
 */
export interface CalibrationWorkload {
  /** Short name, used on the command line (`--workload NAME`) and in the table. */
  readonly name: string;
  /** What it is, in a few words. */
  readonly description: string;
  /** memory.limit_in_bytes of its group, MiB. */
  readonly limitMiB: number;
  /** Anonymous memory written before anything else, MiB. */
  readonly holdMiB: number;
  /** Anonymous growth after that, MiB/s (0: none). */
  readonly growMiBPerSecond: number;
  /**
   * The file read in a loop, MiB, or 0 for none. Larger than memory and read once per loop it is
   * streaming; its pages come back only after a whole loop.
   */
  readonly fileMiB: number;
  /** Throughput limit of the reads, MiB/s (0: as fast as they go). */
  readonly readMiBPerSecond: number;
  /** A second, smaller file read in a loop beside it: a working set the workload comes back to, MiB. */
  readonly hotMiB: number;
  /** Of every 8 MiB read, how many come from the hot file. */
  readonly hotShare: number;
  /** How long one run lasts, ms. */
  readonly durationMs: number;
}

/** The calibration set. Each bounded to 10 s, so that one run of all of them takes about a minute. */
export const CALIBRATION_WORKLOADS: readonly CalibrationWorkload[] = [
  {
    name: 'stream-anon',
    description: '64M group, 40M anonymous, a 512 MiB file read in a loop',
    limitMiB: 64,
    holdMiB: 40,
    growMiBPerSecond: 0,
    fileMiB: 512,
    readMiBPerSecond: 0,
    hotMiB: 0,
    hotShare: 0,
    durationMs: 10_000,
  },
  {
    name: 'stream-squeeze',
    description: '64M group, 52M anonymous, a 512 MiB file read in a loop',
    limitMiB: 64,
    holdMiB: 52,
    growMiBPerSecond: 0,
    fileMiB: 512,
    readMiBPerSecond: 0,
    hotMiB: 0,
    hotShare: 0,
    durationMs: 10_000,
  },
  {
    name: 'file-working-set',
    description: '64M group, 8M anonymous, a 96 MiB file read in a loop (larger than the group)',
    limitMiB: 64,
    holdMiB: 8,
    growMiBPerSecond: 0,
    fileMiB: 96,
    readMiBPerSecond: 0,
    hotMiB: 0,
    hotShare: 0,
    durationMs: 10_000,
  },
  {
    name: 'anon-oom',
    description: '64M group, anonymous memory growing at 16 MiB/s until the OOM kill',
    limitMiB: 64,
    holdMiB: 8,
    growMiBPerSecond: 16,
    fileMiB: 0,
    readMiBPerSecond: 0,
    hotMiB: 0,
    hotShare: 0,
    durationMs: 10_000,
  },
  {
    name: 'cache-service',
    description: '128M group, 16M anonymous, a 32 MiB hot file and a 512 MiB stream at 64 MiB/s',
    limitMiB: 128,
    holdMiB: 16,
    growMiBPerSecond: 0,
    fileMiB: 512,
    readMiBPerSecond: 64,
    hotMiB: 32,
    hotShare: 4,
    durationMs: 10_000,
  },
];

/** What the harness measured on the kernel that the scenario needs as input (not as a target). */
export interface CalibrationInputs {
  /** Median read throughput the kernel allowed over the run, MiB/s. */
  readonly readMiBPerSecond: number;
  /**
   * vmpressure windows per event on the kernel: pages scanned (/proc/vmstat pgscan) / 512 / events
   * at the low listener. The work item runs on another CPU while reclaim goes on; the busier the
   * CPUs, the more windows one run of it takes together. 1 when nothing was scanned.
   */
  readonly windowsPerEvent: number;
}

/** The figures compared between the kernel and the model, for one run or as medians. */
export interface CalibrationFigures {
  /** vmpressure windows (events at the low listener: every window signals it) per second. */
  readonly windowsPerSecond: number;
  /** Share of the windows at medium or critical (medium listener / low listener), 0-1. */
  readonly mediumShare: number;
  /** Share of the windows at critical, 0-1. */
  readonly criticalShare: number;
  /** ms from the start of the workload to the first medium event; null when none came. */
  readonly firstMediumMs: number | null;
  /** ms from the start to the first OOM kill; null when none came. */
  readonly oomMs: number | null;
}

/** The kernel's medians for one workload, as the harness writes them to the fixture. */
export interface KernelCalibration {
  readonly workload: string;
  readonly runs: number;
  readonly inputs: CalibrationInputs;
  readonly kernel: CalibrationFigures;
}

/** The fixture the harness writes (test/calibration/kernel-medians.json). */
export interface KernelMedians {
  readonly machine: string;
  readonly kernel: string;
  readonly date: string;
  /** Load average (1 min) when the runs started and ended: vmpressure event rates depend on CPU. */
  readonly load: string;
  readonly workloads: readonly KernelCalibration[];
}

/**
 * Page cache in flight per reader (`files.readahead` of the calibration scenarios), MiB: the
 * readahead window of a sequential reader of 1 MiB reads (sync and async parts, large folios), two
 * batches of 8 MiB. Bracketed by the calibration rather than fitted: it must be more than the 12 MiB
 * that `stream-squeeze` leaves for page cache (its reader then always waits on reads in flight when
 * it reclaims) and well below the 24 MiB of `stream-anon` (whose reclaim the kernel shows all low).
 * Anywhere in between gives the same figures, but for the batch size (half of it).
 */
export const CALIBRATION_READAHEAD_MIB = 16;

/**
 * `machine.ioPerScan` of the calibration scenarios: pages of read I/O in flight that complete while
 * reclaim scans one page, fitted to `stream-squeeze` on the quiet machine (the model's default,
 * {@link IO_PER_SCAN}). The share of failing windows falls smoothly as it grows (see
 * {@link calibrationSensitivity}).
 */
export const CALIBRATION_IO_PER_SCAN = IO_PER_SCAN;

/** The load's wander of the calibration scenarios: how far the read rate strays from its mean. */
export const CALIBRATION_JITTER = 0.25;

/** The constants of the calibration scenarios; {@link calibrationSensitivity} varies each of them. */
export interface CalibrationConstants {
  /** `files.readahead`, MiB. */
  readonly readaheadMiB: number;
  /** `machine.ioPerScan`. */
  readonly ioPerScan: number;
  /** The workload's `jitter`. */
  readonly jitter: number;
}

/** The calibrated constants. */
export const CALIBRATION_CONSTANTS: CalibrationConstants = {
  readaheadMiB: CALIBRATION_READAHEAD_MIB,
  ioPerScan: CALIBRATION_IO_PER_SCAN,
  jitter: CALIBRATION_JITTER,
};

/**
 * The scenario of a calibration workload: the same group, the same anonymous memory, and its reads
 * at the throughput the kernel allowed. A file that does not fit beside the anonymous memory, read
 * in a loop, is a stream to the kernel whatever its size: each page is read once per loop, so when
 * reclaim gets to it, it was used once (`folio_check_references`: an unmapped page cache folio is
 * reclaimed, referenced or not) and it comes back only after reclaim took it (a refault whose
 * distance is larger than the working set, so not activated). A file that fits is a working set.
 */
export function calibrationScenario(
  workload: CalibrationWorkload,
  inputs: CalibrationInputs,
  constants: CalibrationConstants = CALIBRATION_CONSTANTS,
): Scenario {
  const rate = inputs.readMiBPerSecond * MiB;
  const hotRate = workload.hotMiB > 0 ? (rate * workload.hotShare) / 8 : 0;
  const fileRate = rate - hotRate;
  const streams = workload.fileMiB + workload.holdMiB > workload.limitMiB;
  const files: NonNullable<ScenarioInput['workloads'][number]['files']> = {};
  if (workload.hotMiB > 0) {
    Object.assign(files, { size: workload.hotMiB * MiB, workingSet: workload.hotMiB * MiB, reads: hotRate });
  } else if (workload.fileMiB > 0 && !streams) {
    Object.assign(files, {
      size: workload.fileMiB * MiB,
      workingSet: workload.fileMiB * MiB,
      reads: fileRate,
    });
  }
  if (workload.fileMiB > 0 && streams) files.stream = fileRate;
  if (workload.fileMiB > 0) files.readahead = constants.readaheadMiB * MiB;
  const input: ScenarioInput = {
    description: `calibration: ${workload.description}`,
    duration: workload.durationMs,
    sample: 100,
    seed: 1,
    machine: { memory: '24GiB', ioPerScan: constants.ioPerScan },
    groups: { work: { limit: workload.limitMiB * MiB } },
    workloads: [
      {
        name: workload.name,
        group: 'work',
        heap: workload.holdMiB * MiB,
        rate: workload.growMiBPerSecond * MiB,
        // Its anonymous memory is held (and without swap not reclaimable anyway), and the hot file
        // is re-read long before reclaim gets to it: the kernel kept all 32 MiB of it active.
        hot: 1,
        jitter: constants.jitter,
        restart: 'never',
        files,
      },
    ],
  };
  return { ...validateScenario(input, `calibration:${workload.name}`), name: `calibration-${workload.name}` };
}

/** Runs a calibration workload's scenario (no policies) and measures it as the harness measures the kernel. */
export async function simulateCalibration(
  workload: CalibrationWorkload,
  inputs: CalibrationInputs,
  seed = 1,
  constants: CalibrationConstants = CALIBRATION_CONSTANTS,
): Promise<CalibrationFigures> {
  const simulation = await Simulation.create({
    scenario: calibrationScenario(workload, inputs, constants),
    seed,
    policies: false,
  });
  const counts = { low: 0, medium: 0, critical: 0 };
  let firstMediumMs: number | null = null;
  let oomMs: number | null = null;
  const group = simulation.machine.workloads[0].group.path;
  const pagesPerEvent = VMPRESSURE_WINDOW * Math.max(1, inputs.windowsPerEvent);
  simulation.memshed.events$.subscribe((event: PressureEvent) => {
    if (event.scope !== group) return;
    // The model runs the engine's work between reclaim slices, so one long reclaim run (a failing
    // escalation scans the lists about twice) is one event; on the kernel the work runs on another
    // CPU meanwhile, once per `windowsPerEvent` windows. Count the signals the kernel would have sent.
    const signals = Math.max(1, Math.round((event.scanned ?? 0) / pagesPerEvent));
    // The kernel's listeners fire for their level and every level above: count as they would.
    counts.low += signals;
    if (event.level !== 'low') {
      counts.medium += signals;
      firstMediumMs ??= event.time;
    }
    if (event.level === 'critical') counts.critical += signals;
  });
  simulation.records$.subscribe((record) => {
    if (record.type === 'oom' && oomMs === null) oomMs = record.t;
  });
  try {
    await simulation.run();
  } finally {
    await simulation.stop();
  }
  return figures(counts, workload.durationMs, firstMediumMs, oomMs);
}

/**
 * The model's medians over `seeds` runs (seeds 1 to `seeds`), as the kernel's are over several runs:
 * a 10 s run is shorter than the load's wander (10 s time constant), so one seed is one draw.
 */
export async function simulateCalibrationMedians(
  workload: CalibrationWorkload,
  inputs: CalibrationInputs,
  seeds = 5,
  constants: CalibrationConstants = CALIBRATION_CONSTANTS,
): Promise<CalibrationFigures> {
  const runs: CalibrationFigures[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    runs.push(await simulateCalibration(workload, inputs, seed, constants));
  }
  const of = (key: keyof CalibrationFigures) => median(runs.map((run) => run[key]));
  return {
    windowsPerSecond: of('windowsPerSecond') ?? 0,
    mediumShare: of('mediumShare') ?? 0,
    criticalShare: of('criticalShare') ?? 0,
    firstMediumMs: of('firstMediumMs'),
    oomMs: of('oomMs'),
  };
}

/** The figures of event counts (per listener) over `durationMs`. */
export function figures(
  counts: { low: number; medium: number; critical: number },
  durationMs: number,
  firstMediumMs: number | null,
  oomMs: number | null,
): CalibrationFigures {
  return {
    windowsPerSecond: (counts.low * 1000) / durationMs,
    mediumShare: counts.low ? counts.medium / counts.low : 0,
    criticalShare: counts.low ? counts.critical / counts.low : 0,
    firstMediumMs,
    oomMs,
  };
}

/** The median of numbers; of nulls and numbers, null when at least half are null. */
export function median(values: readonly (number | null)[]): number | null {
  const numbers = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (numbers.length === 0 || numbers.length * 2 < values.length) return null;
  const middle = Math.floor(numbers.length / 2);
  return numbers.length % 2 ? numbers[middle] : (numbers[middle - 1] + numbers[middle]) / 2;
}

/**
 * Relative error of `simulated` against `kernel`: |s - k| / k. A figure absent on one side only
 * (no medium event, no OOM kill) is off by Infinity. Figures closer than `floor` count as equal
 * (error 0): the measurement's resolution (a 2% share of windows is a handful of windows; the
 * first event's time is read through an event loop on a loaded machine and the model steps 20 ms).
 */
export function relativeError(kernel: number | null, simulated: number | null, floor = 0): number {
  if (kernel === null || simulated === null) return kernel === simulated ? 0 : Infinity;
  if (Math.abs(simulated - kernel) <= floor) return 0;
  if (kernel === 0) return simulated === 0 ? 0 : Infinity;
  return Math.abs(simulated - kernel) / Math.abs(kernel);
}

/** The figures held to the target, with the noise floor each one is compared with. */
export const TARGET_FIGURES = [
  { key: 'mediumShare', floor: 0.02 },
  { key: 'criticalShare', floor: 0.02 },
  { key: 'firstMediumMs', floor: 50 },
] as const satisfies readonly { key: keyof CalibrationFigures; floor: number }[];

/** The calibration target: each of {@link TARGET_FIGURES} within this relative error of the kernel's median. */
export const CALIBRATION_TOLERANCE = 0.25;

/** One line of {@link calibrationSensitivity}: a constant moved by a factor, and the model's medians. */
export interface SensitivityRow {
  /** The constant moved. */
  readonly constant: keyof CalibrationConstants;
  /** Its relative change: -0.1, 0 (the calibrated value) or +0.1 by default. */
  readonly change: number;
  /** The value it had. */
  readonly value: number;
  /** The model's medians (seeds 1 to `seeds`) with it. */
  readonly figures: CalibrationFigures;
}

/**
 * How the model's figures for `workload` move when each calibrated constant moves by `-step`, 0 and
 * `+step` (relative) alone: a fit is trustworthy only where they move smoothly and a little.
 */
export async function calibrationSensitivity(
  workload: CalibrationWorkload,
  inputs: CalibrationInputs,
  step = 0.1,
  seeds = 5,
): Promise<SensitivityRow[]> {
  const rows: SensitivityRow[] = [];
  const fitted = await simulateCalibrationMedians(workload, inputs, seeds);
  for (const constant of Object.keys(CALIBRATION_CONSTANTS) as (keyof CalibrationConstants)[]) {
    for (const change of [-step, 0, step]) {
      const value = CALIBRATION_CONSTANTS[constant] * (1 + change);
      const constants = { ...CALIBRATION_CONSTANTS, [constant]: value };
      const figures =
        change === 0 ? fitted : await simulateCalibrationMedians(workload, inputs, seeds, constants);
      rows.push({ constant, change, value, figures });
    }
  }
  return rows;
}
