/**
 * The survival benchmark's plot (test/bench/support/survival-plot.js, README's "Why memshed"
 * figure): one panel per payload and limit, one line per guard with the usage it was given, the
 * limit, and a cross with the cause where a service died. Pure rendering, no kernel needed.
 */
import { tagNestingProblem } from '@memshed/source-vmscan-sim/testing';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { renderSurvivalSvg } = require('../bench/support/survival-plot') as {
  renderSurvivalSvg(runs: readonly object[]): string;
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
