/**
 * End-to-end survival across growth rates: examples/express-app, whose item cache grows with every
 * request (JS strings on the V8 heap, or Buffers off it), in a 256M and a 512M child memory cgroup,
 * driven by a bounded loopback load of 400 requests/s (support/survival-matrix.ts runs one cell).
 * The growth is bytes per request x requests/s:
 *
 * - 1 MiB/s (2.5 KiB per request), the service prefilled to where the policy acts (strings: at once)
 *   (support/survival-matrix.ts `prefillFor`), so that it meets pressure within the 20 s run;
 * - 25 MiB/s (64 KiB per request), 20 s: pressure is reached after 5-13 s and again after each purge;
 * - 250 MiB/s (640 KiB per request), 12 s: the limit would be reached in about a second;
 * - bursts: 4 MiB/s with 1 s of 250 MiB/s every 4 s, 13 s (three bursts).
 *
 * With memshed's default policy (the example's .memshedrc.yaml, untuned: v8 + system + cgroup-v1
 * sources, purge and gc at medium, HTTP shedding at critical until memory is released) every cell
 * stays alive with 0 OOM kills and 0 heap OOMs, and serves at least 99% of the requests. Without
 * memshed the fast cells die (V8 heap OOM or the OOM killer); when, is printed. The slow cell is not
 * run without memshed: at 1 MiB/s it would take minutes to die (the growth benchmark does it).
 *
 * The alternatives (@fastify/under-pressure, the vmstat or psi source alone) and the full grid of
 * rates, with the warning lead time of memshed, the kernel's own events and PSI, are the
 * benchmarks: `npm run bench -- survival` and `npm run bench -- growth` (docs/benchmarks.md).
 * Every run goes alone (two services at 400 requests/s each starve each other on 2 vCPUs): 6-7
 * minutes in all (measured beside other jobs, load average 4-14), the runs without memshed ending
 * at their death.
 */
import { nativeAvailability } from '@memshed/native';
import { removeAllTestCgroups, testCgroupsUnavailableReason } from '../kernel/support/cgroup';
import {
  describeRun,
  itemBytesFor,
  prefillFor,
  runSurvival,
  type Payload,
  type SurvivalGuard,
  type SurvivalRun,
  type SurvivalRunOptions,
} from './support/survival-matrix';

const RATE = 400;
const PAYLOADS: readonly Payload[] = ['string', 'buffer'];
const LIMITS = [256, 512] as const;

/** One growth pattern of the grid. */
interface Growth {
  readonly name: string;
  readonly seconds: number;
  /** The cell's options besides payload, limit and guard. */
  cell(payload: Payload, limitMiB: number): Partial<SurvivalRunOptions>;
}

const GROWTHS: readonly Growth[] = [
  {
    name: '1 MiB/s, prefilled',
    seconds: 20,
    cell: (payload, limitMiB) => ({ itemBytes: itemBytesFor(1), prefillMiB: prefillFor(payload, limitMiB) }),
  },
  { name: '25 MiB/s', seconds: 20, cell: () => ({ itemBytes: itemBytesFor(25) }) },
  { name: '250 MiB/s', seconds: 12, cell: () => ({ itemBytes: itemBytesFor(250) }) },
  {
    name: '4 MiB/s with 1 s bursts of 250 MiB/s every 4 s',
    seconds: 13,
    cell: () => ({
      itemBytes: itemBytesFor(4),
      bursts: { everyMs: 4000, forMs: 1000, itemBytes: itemBytesFor(250) },
    }),
  },
];
const [, MEDIUM, FAST, BURSTS] = GROWTHS;

const native = nativeAvailability();
const unavailable = testCgroupsUnavailableReason() ?? (native.available ? undefined : native.reason);
if (unavailable) console.warn(`survival e2e tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

const summary: string[] = [];
afterAll(async () => {
  if (summary.length) console.log(`survival across growth rates:\n${summary.join('\n')}`);
  await removeAllTestCgroups();
});

/** Runs one cell and prints what it did. */
async function run(
  growth: Growth,
  payload: Payload,
  limitMiB: number,
  guard: SurvivalGuard,
): Promise<SurvivalRun> {
  const result = await runSurvival({
    payload,
    limitMiB,
    guard,
    seconds: growth.seconds,
    rate: RATE,
    ...growth.cell(payload, limitMiB),
  });
  const line = describeRun(result);
  summary.push(line);
  console.log(line);
  return result;
}

/** Every payload in every limit, as it.each rows. */
const cells = LIMITS.flatMap((limit) => PAYLOADS.map((payload) => [payload, limit] as const));

describeKernel('examples/express-app at 400 requests/s, growing from 1 MiB/s to 250 MiB/s', () => {
  describe('without memshed', () => {
    const runs = new Map<string, SurvivalRun>();
    const deadly = [
      ...[FAST, BURSTS].flatMap((growth) =>
        cells.map(([payload, limit]) => [growth, payload, limit] as const),
      ),
      // The 64 KiB per request of the first survival runs, where it dies soonest (7-8 s).
      ...PAYLOADS.map((payload) => [MEDIUM, payload, 256] as const),
    ];

    beforeAll(async () => {
      // One at a time, like the rest: side by side, they starve each other of CPU and die later.
      for (const [growth, payload, limit] of deadly) {
        runs.set(`${growth.name} ${payload} ${limit}`, await run(growth, payload, limit, 'none'));
      }
    }, 300_000);

    it.each(deadly.map(([growth, payload, limit]) => [growth.name, payload, limit, growth] as const))(
      'at %s, caching %ss in %iM: dies of V8 heap OOM or by the OOM killer',
      (name, payload, limit, growth) => {
        const result = runs.get(`${name} ${payload} ${limit}`)!;
        expect(result.end === 'V8 heap OOM' || result.end === 'OOM-killed').toBe(true);
        if (result.end === 'OOM-killed') expect(result.oomKills).toBeGreaterThan(0);
        expect(result.endedAtMs).toBeLessThan(growth.seconds * 1000);
      },
    );
  });

  describe.each(GROWTHS.map((growth) => [growth.name, growth] as const))(
    'with memshed, at %s',
    (_name, growth) => {
      it.each(cells)(
        'caching %ss in %iM: alive for the whole run, 0 OOM kills, 0 heap OOMs, at least 99% served',
        async (payload, limit) => {
          const result = await run(growth, payload, limit, 'memshed');
          expect(result.sources).toEqual(['v8:running', 'system:running', 'cgroup-v1:running']);
          expect(result.errors).toEqual([]);
          expect({ end: result.end, oomKills: result.oomKills }).toEqual({ end: 'alive', oomKills: 0 });
          expect(result.stderrTail).not.toMatch(/heap out of memory/i);
          // It was under pressure (the prefill and the run lengths are chosen for that) and acted.
          expect(result.firstMedium).toBeDefined();
          expect(result.purges).toBeGreaterThan(0);
          expect(result.attempted).toBe(RATE * growth.seconds);
          // The timeline says when it shed and what memshed did around it, if it did.
          if (result.successRate < 0.99) console.log(result.timeline.join('\n'));
          expect(result.successRate).toBeGreaterThanOrEqual(0.99);
        },
        120_000,
      );
    },
  );
});
