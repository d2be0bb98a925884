import { MemshedError } from '@memshed/core';
import { SHED_PRIORITIES, type ShedPriority } from '@memshed/shed-priority';
import { bytesOption, durationOption, durationOrNeverOption, rateOption, z } from '@memshed/options';
import { policySchema } from '@memshed/policy';
import { IO_PER_SCAN } from './vmscan';

/** A size: `256MiB`, `64M`, `1.5GiB`, or a number of bytes (memshed's size option). Parsed to bytes. */
export const sizeSchema = bytesOption;

/** A rate: `2MiB/s`, `512KiB/s`, `30MiB/m`, or a number of bytes per second. Parsed to bytes per second. */
export const rateSchema = rateOption;

/** A duration: `500ms`, `10s`, `2m`, or a number of milliseconds. Parsed to milliseconds. */
export const durationSchema = durationOption;

/** A duration, or `never`: parsed to milliseconds, `never` to Infinity. */
export const durationOrNeverSchema = durationOrNeverOption;

const fraction = z.number().min(0).max(1);
const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"');

/** A memory group of the scenario: a limit, and child groups by name. */
export interface ScenarioGroupInput {
  limit?: unknown;
  groups?: Record<string, ScenarioGroupInput>;
}

/** A memory group, parsed. */
export interface ScenarioGroup {
  /** The limit in bytes (`memory.limit_in_bytes`); undefined for none (only the parents' apply). */
  limit?: number;
  /** Child groups by name. */
  groups: Record<string, ScenarioGroup>;
}

const groupSchema: z.ZodType<ScenarioGroup, ScenarioGroupInput> = z.lazy(() =>
  z.strictObject({
    limit: sizeSchema.optional(),
    groups: z.record(name, groupSchema).default({}),
  }),
);

const prioritySchema = z.enum(SHED_PRIORITIES as [ShedPriority, ...ShedPriority[]]);

const cacheSchema = z.strictObject({
  /** The cache's name, unique in its workload. */
  name,
  /** `background`, `low`, `normal` or `high`, as registered with the cache-purge action. */
  priority: prioritySchema.default('normal'),
  /** Never purged (the cache-purge action's `keep`). */
  keep: z.boolean().default(false),
  /** Tags a cache-purge action can select on. */
  tags: z.array(z.string()).default([]),
  /** Bytes held at start. */
  size: sizeSchema.default(0),
  /** The most it holds: it fills up to this size. */
  max: sizeSchema,
  /** How fast it fills, bytes per second, while below `max`. */
  fill: rateSchema.default(0),
  /** The share of its pages in the working set (hot). */
  hot: fraction.default(0.5),
});

const serviceSchema = z.strictObject({
  /** The service's name, unique in its workload. */
  name,
  /** `background`, `low`, `normal` or `high`, as registered with the service-shutdown action. */
  priority: prioritySchema.default('normal'),
  /** Never stopped (the service-shutdown action's `essential`). */
  essential: z.boolean().default(false),
  /** Bytes held at start (and again when it restarts). */
  size: sizeSchema.default(0),
  /** How fast it grows while running, bytes per second. */
  growth: rateSchema.default(0),
  /** The most it grows to; none by default. */
  max: sizeSchema.optional(),
  /** The share of its pages in the working set (hot). */
  hot: fraction.default(0.5),
});

const filesSchema = z.strictObject({
  /** The data set the workload reads, bytes; defaults to the working set. */
  size: sizeSchema.optional(),
  /** The hot part of it, read continuously: every page of it is wanted in memory. */
  workingSet: sizeSchema.default(0),
  /** Read throughput, bytes per second: working-set refaults first, then the rest of the data set. */
  reads: rateSchema.default(0),
  /** Read-once data (logs, backups), bytes per second: page cache nobody comes back for. */
  stream: rateSchema.default(0),
  /**
   * Page cache of its newest reads still locked for read I/O (the readahead window in flight: two
   * readahead batches), bytes: reclaim scans these pages but cannot free them until their read
   * completes (`machine.ioPerScan`). Default 0.
   */
  readahead: sizeSchema.default(0),
});

const phaseSchema = z.strictObject({
  /** How long the phase lasts. */
  for: durationSchema,
  /** A label for the timeline and plot. */
  label: z.string().optional(),
  /** Heap growth, bytes per second, from the start of this phase. */
  rate: rateSchema.optional(),
  /** Leak, bytes per second, from the start of this phase. */
  leak: rateSchema.optional(),
  /** File read throughput from the start of this phase. */
  reads: rateSchema.optional(),
  /** Streamed reads from the start of this phase. */
  stream: rateSchema.optional(),
  /** The file working set from the start of this phase. */
  workingSet: sizeSchema.optional(),
  /** Allocated at the start of the phase, held until its end. */
  spike: sizeSchema.optional(),
});

const workloadSchema = z.strictObject({
  /** The workload's name (the process). */
  name,
  /** The group it runs in, by path below the root: `app` or `app/workers`. */
  group: z.string(),
  /** Anonymous working set at start (heap, code, stacks), bytes. */
  heap: sizeSchema.default(0),
  /** Heap growth, bytes per second (retained and used). */
  rate: rateSchema.default(0),
  /** Leak, bytes per second (retained, never used again: cold). */
  leak: rateSchema.default(0),
  /** Probability that reclaim finds a working-set page referenced (second chance). */
  hot: fraction.default(0.9),
  /** Random variation of the load (an Ornstein-Uhlenbeck process around 1, this standard deviation). */
  jitter: z.number().min(0).max(0.5).default(0.1),
  /** File reading. */
  files: filesSchema.default({ workingSet: 0, reads: 0, stream: 0, readahead: 0 }),
  /** Restart this long after an OOM kill, or `never` (Infinity). */
  restart: durationOrNeverSchema.default(5000),
  /** Caches the application can purge. */
  caches: z.array(cacheSchema).default([]),
  /** Services the application can stop. */
  services: z.array(serviceSchema).default([]),
  /** Changes over time, one after the other from the start; the last one's settings stay. */
  phases: z.array(phaseSchema).default([]),
});

/** The scenario file's schema: the simulated machine, its groups, workloads and the policies to rehearse. */
export const scenarioSchema = z.strictObject({
  /** The scenario's name; defaults to the file name. */
  name: z.string().optional(),
  /** One line: what it shows. */
  description: z.string().default(''),
  /** How long to simulate. */
  duration: durationSchema.default(600_000),
  /** The model's time step. */
  tick: durationSchema.default(20),
  /** The interval of samples in the recording. */
  sample: durationSchema.default(1000),
  /** The default seed (the command line's --seed wins). */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(1),
  /** The machine. */
  machine: z
    .strictObject({
      /** Its memory: the limit of the root group. */
      memory: sizeSchema.default(1024 ** 3),
      /** Swap size; none by default (anonymous memory is then not reclaimable). */
      swap: sizeSchema.default(0),
      /** vm.swappiness. */
      swappiness: z.number().int().min(0).max(200).default(60),
      /**
       * Pages of read I/O in flight that complete while reclaim scans one page: how fast the disk is
       * against reclaim on this machine's CPU. Larger with a faster disk, or on a busy machine (reclaim
       * gets less CPU, so more completes per page it scans). Matters only with `files.readahead`.
       */
      ioPerScan: z.number().positive().max(1000).default(IO_PER_SCAN),
    })
    .default({ memory: 1024 ** 3, swap: 0, swappiness: 60, ioPerScan: IO_PER_SCAN }),
  /** The memory groups below the root, by name. */
  groups: z.record(name, groupSchema).default({}),
  /** The processes. At most one per group. */
  workloads: z.array(workloadSchema).min(1),
  /** Shedding policies to rehearse (`memshed simulate`): memshed config's policies, the same schema. */
  policies: z.array(policySchema).default([]),
  /** The monitor's recovery: how long without events before the state steps down. */
  recovery: z.strictObject({ quiet: durationSchema.default(5000) }).default({ quiet: 5000 }),
  /** What the plot shows. */
  plot: z
    .strictObject({
      /** The group to plot, by path below the root; default the first workload's. */
      group: z.string().optional(),
    })
    .default({}),
});

/** A scenario as written (YAML or JSON). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A parsed scenario: sizes in bytes, rates in bytes per second, durations in milliseconds. */
export type Scenario = z.output<typeof scenarioSchema> & { readonly name: string };
/** A workload of a parsed scenario. */
export type ScenarioWorkload = Scenario['workloads'][number];
/** A phase of a workload. */
export type ScenarioPhase = ScenarioWorkload['phases'][number];
/** A cache of a workload. */
export type ScenarioCache = ScenarioWorkload['caches'][number];
/** A service of a workload. */
export type ScenarioService = ScenarioWorkload['services'][number];
/** A policy of a scenario. */
export type ScenarioPolicy = Scenario['policies'][number];

/** Every group path below the root (`app`, `app/workers`), parents first. */
export function scenarioGroupPaths(groups: Record<string, ScenarioGroup>, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, group] of Object.entries(groups)) {
    const path = prefix + key;
    paths.push(path, ...scenarioGroupPaths(group.groups, path + '/'));
  }
  return paths;
}

/** Throws the scenario error every check shares. */
export function scenarioError(file: string, path: string, message: string, line?: string): MemshedError {
  return new MemshedError('invalid-config', `${file}: ${path ? path + ': ' : ''}${message}${line ?? ''}`, {
    context: { file, path },
  });
}
