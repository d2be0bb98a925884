/**
 * The survival benchmark's plot (test/bench/support/survival-plot.js, README's "Why memshed"
 * figure): one panel per payload and limit, one line per guard with the usage it was given, the
 * limit, and a cross with the cause where a service died. Pure rendering, no kernel needed.
 */
import { tagNestingProblem } from '@memshed/source-vmscan-sim/testing';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { renderSurvivalSvg, renderGrowthSvg } = require('../bench/support/survival-plot') as {
  renderSurvivalSvg(runs: readonly object[]): string;
  renderGrowthSvg(results: readonly object[]): string;
};

function run(payload: string, guard: string, end: string, usage: [number, number][]) {
  return {
    payload,
    limitMiB: 256,
    guard,
    seconds: 60,
    end,
    endedAtMs: usage[usage.length - 1][0] * 1000,
    usage,
  };
}

/** Checks that every tag opens and closes in order (the SVG is XML). */
function expectWellFormed(markup: string): void {
  expect(tagNestingProblem(markup)).toBeUndefined();
}

describe('renderSurvivalSvg', () => {
  const runs = [
    {
      ...run('buffer', 'none', 'OOM-killed', [
        [0, 40],
        [4, 150],
        [8.1, 256],
        [8.2, 0], // the cgroup after the kill
      ]),
      endedAtMs: 8100,
    },
    run('buffer', 'memshed', 'alive', [
      [0, 40],
      [5, 190],
      [5.1, 60],
      [60, 120],
    ]),
    run('string', 'memshed', 'alive', [
      [0, 40],
      [60, 100],
    ]),
  ];
  const svg = renderSurvivalSvg(runs);

  it('draws one panel per payload and limit, side by side, in well-formed SVG', () => {
    expectWellFormed(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="920" /);
    expect(svg).toContain('Buffers (off-heap), 256M cgroup');
    expect(svg).toContain('JS strings (V8 heap), 256M cgroup');
  });

  it('draws each run as a line through its samples, scaled to the panel', () => {
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1].split(' '));
    expect(lines.map((points) => points.length)).toEqual([3, 4, 2]);
    // x: 0 s at the left edge of the plot area (52), 60 s at its right (460 - 14); y: 0 MiB at the
    // bottom (260 - 36), 256 MiB * 1.05 at the top (34).
    expect(lines[1][0]).toBe(`52.0,${(224 - (40 / (256 * 1.05)) * 190).toFixed(1)}`);
    expect(lines[2][1].startsWith(`${(460 + 446).toFixed(1)},`)).toBe(true);
  });

  it('marks a death with a cross and its cause, and names the guards in a legend', () => {
    expect(svg).toContain('>OOM-killed at 8.1 s</text>');
    expect(svg.match(/<path d="M/g)).toHaveLength(1);
    expect(svg).toContain('>without memshed</text>');
    expect(svg).toContain('>memshed&#39;s default policy</text>'.replace('&#39;', "'"));
  });
});

describe('renderGrowthSvg', () => {
  /** One cell of test/bench/growth.js's results, with the fields the plot reads. */
  function cell(growth: string, payload: string, leadMs: Record<string, number | undefined>, served: number) {
    return {
      growth,
      payload,
      limitMiB: 256,
      limitHitMs: 6000,
      leadMs,
      memshed: { successRate: served },
      noneServedRate: 0.25,
    };
  }
  const svg = renderGrowthSvg([
    cell('1', 'string', { memshed: 10_000, kernel: undefined, psi: 100 }, 1),
    cell('250', 'string', { memshed: 500, kernel: undefined, psi: undefined }, 0.995),
    cell('bursts', 'string', { memshed: 1000, kernel: 20, psi: undefined }, 0.99),
    cell('1', 'buffer', { memshed: 8000, kernel: 150, psi: undefined }, 1),
    cell('250', 'buffer', { memshed: 400, kernel: 130, psi: undefined }, 1),
    cell('bursts', 'buffer', { memshed: 900, kernel: 140, psi: undefined }, 1),
  ]);

  it('draws one column per payload and limit, in well-formed SVG', () => {
    expectWellFormed(svg);
    expect(svg).toContain('JS strings (V8 heap), 256M</text>');
    expect(svg).toContain('Buffers (off-heap), 256M</text>');
  });

  it('puts the growths in their order on the x axis, bursts last, under both panels', () => {
    const labels = [...svg.matchAll(/text-anchor="middle">(1|250|bursts)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual([
      '1',
      '1',
      '250',
      '250',
      'bursts',
      'bursts',
      '1',
      '1',
      '250',
      '250',
      'bursts',
      'bursts',
    ]);
  });

  it('marks a source that gave no warning before the limit with a cross, and plots the others on a log scale', () => {
    // kernel: 2 missing (strings 1 and 250); psi: 5 missing.
    expect(svg.match(/<path d="M/g)).toHaveLength(7);
    // 10 s of lead sits one decade above 1 s: the panel spans 10 ms to 100 s (4 decades) over 136 px.
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="3" fill="#2e7d32"/g)].map((m) =>
      Number(m[1]),
    );
    const decade = (200 - 30 - 34) / 4;
    expect(ys[0]).toBeCloseTo(30 + (200 - 30 - 34) - 3 * decade, 0);
  });
});
