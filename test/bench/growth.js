#!/usr/bin/env node
// Survival and warning lead time across growth rates: examples/express-app (its own .memshedrc.yaml,
// untuned) at 400 requests/s in a 256M and a 512M child memory cgroup, caching JS strings or
// Buffers, growing 1, 4, 16, 64, 128 and 250 MiB/s (bytes per request x requests/s: 2.5 KiB to
// 640 KiB per request) and in bursts (4 MiB/s with 1 s of 250 MiB/s every 4 s). Rates up to 4 MiB/s
// start prefilled close below where the policy acts (survival-matrix.ts `prefillFor`), so that they
// meet pressure within the run; the run without memshed gets the same prefill.
//
// Each cell runs twice, one run at a time (test/e2e/support/survival-matrix.ts runs one):
// - without memshed (`--guard none`), for as long as it takes to die (at most --max-seconds): the
//   moment the limit is hit is its death (V8 heap OOM or OOM kill), or the cgroup's usage reaching
//   the limit; two listeners in this process watch it: the kernel's own vmpressure events (a raw
//   eventfd per level on the run's memory.pressure_level, @memshed/native's watchEventfd, nothing
//   else) and PSI (@memshed/source-psi on /proc/pressure/memory, its default 2 s windows: system-wide
//   on cgroup v1, which is why every run goes alone);
// - with memshed's default policy, for --seconds (--slow-seconds up to 4 MiB/s), and at least 5 s
//   past the moment the run without memshed died: alive or not, OOM kills, % served, and its first
//   medium-or-critical event.
// WARNING LEAD TIME = the moment the limit is hit in the run without memshed minus the first
// medium-or-critical event: memshed's (its own run, same load and prefill, so the same clock),
// the kernel's and PSI's (the run without memshed). None: no such event came before the limit.
//
// Run: `npm run bench -- growth [--rates 1,4,16,64,128,250,bursts] [--limits 256,512]
// [--payloads string,buffer] [--seconds 15] [--slow-seconds 30] [--max-seconds 150]
// [--plot FILE.svg] [--json FILE]`. The full grid takes an estimated 30 minutes. Needs root on a
// cgroup v1 memory controller, the native addon built, and PSI; a quiet machine for figures worth
// keeping.
'use strict';

require('../e2e/support/system-ts-register.js');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const support = require('./support/kernel-support');
const { nativeAvailability, watchEventfd } = require('@memshed/native');
const { createMemshed } = require('@memshed/core');
const { PsiSource, psiSourceOptionsSchema } = require('@memshed/source-psi');
const { runSurvival, describeRun, itemBytesFor, prefillFor } = require('../e2e/support/survival-matrix.ts');
const { renderGrowthSvg } = require('./support/survival-plot');

const RATE = 400;
const RATES = support.argument('--rates', '1,4,16,64,128,250,bursts').split(',');
const LIMITS = support.argument('--limits', '256,512').split(',').map(Number);
const PAYLOADS = support.argument('--payloads', 'string,buffer').split(',');
const SECONDS = Number(support.argument('--seconds', 15));
const SLOW_SECONDS = Number(support.argument('--slow-seconds', 30));
const MAX_SECONDS = Number(support.argument('--max-seconds', 150));
const PLOT = support.argument('--plot', undefined);
const JSON_OUT = support.argument('--json', undefined);
const SLOW = 4; // MiB/s: at or below, the service starts prefilled

/** One growth of the grid: its options for runSurvival, and how long the memshed run lasts. */
function growth(name) {
  if (name === 'bursts') {
    return {
      name,
      label: 'bursts',
      seconds: Math.max(SECONDS, 13),
      options: () => ({
        itemBytes: itemBytesFor(4),
        bursts: { everyMs: 4000, forMs: 1000, itemBytes: itemBytesFor(250) },
      }),
    };
  }
  const mibs = Number(name);
  if (!(mibs > 0)) throw new Error(`--rates ${name}: give MiB/s numbers or 'bursts', e.g. 1,25,250,bursts`);
  const slow = mibs <= SLOW;
  return {
    name,
    label: `${name} MiB/s`,
    seconds: slow ? SLOW_SECONDS : SECONDS,
    options: (payload, limitMiB) => ({
      itemBytes: itemBytesFor(mibs),
      ...(slow ? { prefillMiB: prefillFor(payload, limitMiB) } : {}),
    }),
  };
}

/**
 * The kernel's and PSI's first medium-or-critical events during a run, stamped with the wall clock
 * (the run's `startedAt` is its zero).
 */
function listeners() {
  const first = { kernel: undefined, psi: undefined };
  const observe = async (cgroup) => {
    const watchers = ['medium', 'critical'].map((level) => {
      const watcher = watchEventfd(() => (first.kernel ??= Date.now()));
      const pressureFd = fs.openSync(path.join(cgroup.path, 'memory.pressure_level'), 'r');
      try {
        fs.writeFileSync(
          path.join(cgroup.path, 'cgroup.event_control'),
          `${watcher.fd} ${pressureFd} ${level}`,
        );
      } finally {
        fs.closeSync(pressureFd);
      }
      return watcher;
    });
    const psi = new PsiSource(psiSourceOptionsSchema.parse({}));
    const memshed = psi.availability().available ? await createMemshed({ sources: [psi] }) : undefined;
    memshed?.events$.subscribe((event) => {
      if (event.level === 'medium' || event.level === 'critical') first.psi ??= Date.now();
    });
    return async () => {
      for (const watcher of watchers) watcher.close();
      await memshed?.stop();
    };
  };
  return { first, observe };
}

/** ms from the run's start, or undefined; events from before the load (start-up, prefill) do not count. */
function since(run, at) {
  return at === undefined || at < run.startedAt ? undefined : at - run.startedAt;
}

/** One cell: the run without memshed (with listeners), then the run with it. */
async function cell(g, payload, limitMiB) {
  const base = { payload, limitMiB, rate: RATE, ...g.options(payload, limitMiB) };
  const { first, observe } = listeners();
  const none = await runSurvival({ ...base, guard: 'none', seconds: MAX_SECONDS, observe });
  console.log(describeRun(none));
  const limitHitMs = none.end !== 'alive' ? none.endedAtMs : none.limitReachedMs;
  // With memshed it runs at least 5 s past the moment it would have died: surviving means that.
  const seconds = Math.min(MAX_SECONDS, Math.max(g.seconds, Math.ceil((limitHitMs ?? 0) / 1000) + 5));
  const memshed = await runSurvival({ ...base, guard: 'memshed', seconds });
  console.log(describeRun(memshed));
  const lead = (atMs) =>
    limitHitMs === undefined || atMs === undefined || atMs > limitHitMs ? undefined : limitHitMs - atMs;
  const kernelMs = since(none, first.kernel);
  const psiMs = since(none, first.psi);
  return {
    growth: g.name,
    label: g.label,
    payload,
    limitMiB,
    prefillMiB: none.prefillMiB,
    none: summary(none),
    // What the run without memshed served of the requests the memshed run was asked for.
    noneServedRate: Math.min(1, none.served / (RATE * seconds)),
    memshed: summary(memshed),
    limitHitMs,
    firstMediumMs: { memshed: memshed.firstMedium?.atMs, kernel: kernelMs, psi: psiMs },
    leadMs: { memshed: lead(memshed.firstMedium?.atMs), kernel: lead(kernelMs), psi: lead(psiMs) },
  };
}

function summary(run) {
  return {
    end: run.end,
    endedAtMs: run.endedAtMs,
    seconds: run.seconds,
    oomKills: run.oomKills,
    served: run.served,
    attempted: run.attempted,
    successRate: run.successRate,
    shed: run.shed,
    purges: run.purges,
    p99Ms: run.p99Ms,
    firstMediumSource: run.firstMedium?.source,
  };
}

function row(result) {
  const s = (ms) => (ms === undefined ? 'none' : `${(ms / 1000).toFixed(2)} s`);
  const outcome = (run) =>
    run.end === 'alive' ? `alive ${run.seconds} s` : `${run.end} at ${(run.endedAtMs / 1000).toFixed(1)} s`;
  const pct = (run) => `${(100 * run.successRate).toFixed(1)} %`;
  return (
    `| ${result.label}${result.prefillMiB ? ` (prefill ${result.prefillMiB} MiB)` : ''} | ${result.payload} | ${result.limitMiB}M | ` +
    `${outcome(result.none)} | ${result.limitHitMs === undefined ? '-' : s(result.limitHitMs)} | ` +
    `${outcome(result.memshed)}, ${result.memshed.oomKills} OOM kills | ${pct(result.memshed)} | ` +
    `${s(result.leadMs.memshed)}${result.memshed.firstMediumSource ? ` (${result.memshed.firstMediumSource})` : ''} | ` +
    `${s(result.leadMs.kernel)} | ${s(result.leadMs.psi)} | ` +
    `${s(result.firstMediumMs.memshed)} / ${s(result.firstMediumMs.kernel)} / ${s(result.firstMediumMs.psi)} |`
  );
}

async function main() {
  const unavailable = support.testCgroupsUnavailableReason();
  const native = nativeAvailability();
  if (unavailable || !native.available) {
    console.error(`growth: skipped: ${unavailable ?? native.reason}`);
    return;
  }
  const started = Date.now();
  console.log(
    `growth: ${support.machine()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const growths = RATES.map(growth);
  const results = [];
  for (const g of growths) {
    for (const limitMiB of LIMITS) {
      for (const payload of PAYLOADS) results.push(await cell(g, payload, limitMiB));
    }
  }
  console.log(
    `\n${((Date.now() - started) / 60_000).toFixed(1)} minutes; load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  console.log(
    '| growth | payload | limit | without memshed | limit hit at | with memshed | served | lead: memshed (source) | lead: kernel vmpressure | lead: PSI | first medium+ at: memshed / kernel / PSI |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const result of results) console.log(row(result));
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(results, null, 2) + '\n');
  if (PLOT) {
    fs.writeFileSync(PLOT, renderGrowthSvg(results));
    console.log(`\nplot: ${PLOT}`);
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => support.removeAllTestCgroups());
