import { tagNestingProblem } from './testing';
import { STATE_COLORS, renderPlotSvg, stateIntervals } from './plot';
import { renderPlotHtml } from './plot-html';
import { Simulation, type SimulationRecord } from './simulation';

let leak: SimulationRecord[];
let ramp: SimulationRecord[];

beforeAll(async () => {
  for (const name of ['leak', 'ramp'] as const) {
    const simulation = await Simulation.create({ scenario: name });
    const records = await simulation.run();
    await simulation.stop();
    if (name === 'leak') leak = records;
    else ramp = records;
  }
});

/** Checks that every tag opens and closes in order (the SVG is XML). */
function expectWellFormed(markup: string): void {
  expect(tagNestingProblem(markup)).toBeUndefined();
}

describe('renderPlotSvg', () => {
  it('draws a well-formed SVG with the usage line, the limit, the thresholds and axes with units', () => {
    const svg = renderPlotSvg(ramp);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="680"')).toBe(true);
    expectWellFormed(svg);
    expect(svg).toContain('<title id="plot-title">memshed simulate: ramp</title>');
    expect(svg).toContain('limit 256 MiB');
    expect(svg).toContain('medium 60%');
    expect(svg).toContain('critical 95%');
    expect(svg).toContain('memory (MiB)');
    expect(svg).toContain('simulated time (min:s)');
    expect(svg).toContain('>10:00</text>');
    // One usage polyline of one point per sample.
    const usage = /<polyline points="([^"]+)"[^>]*stroke="#1e3a8a"/.exec(svg);
    expect(usage?.[1].split(' ')).toHaveLength(601);
  });

  it('colours the state bands the run went through', () => {
    const svg = renderPlotSvg(ramp);
    for (const state of ['normal', 'low', 'medium', 'critical'] as const) {
      expect(svg).toContain(`fill="${STATE_COLORS[state]}"`);
    }
  });

  it('marks every action group and OOM kill', () => {
    const svg = renderPlotSvg(leak);
    const oom = leak.filter((r) => r.type === 'oom').length;
    const stops = leak.filter((r) => r.type === 'action' && r.action === 'service-shutdown').length;
    expect(oom).toBeGreaterThan(0);
    expect(svg.match(/stroke="#991b1b" stroke-width="2.4"/g)).toHaveLength(oom + 1); // + the legend's
    expect(svg.match(/<rect [^>]*width="10" height="10" fill="#7c3aed"/g)).toHaveLength(stops + 1);
    expect(svg).toContain('OOM kill web');
  });

  it('is deterministic and needs a start record', () => {
    expect(renderPlotSvg(ramp)).toBe(renderPlotSvg([...ramp]));
    expect(() => renderPlotSvg(ramp.slice(1))).toThrow('no start record');
  });
});

describe('renderPlotHtml', () => {
  it('wraps the SVG in a page with a table of what happened', () => {
    const html = renderPlotHtml(ramp);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>memshed simulate: ramp (seed 1)</title>');
    expect(html).toContain('<svg xmlns=');
    const actions = ramp.filter((r) => r.type === 'action').length;
    const changes = ramp.filter((r) => r.type === 'state').length;
    expect(html.match(/<tr>/g)).toHaveLength(actions + changes + 1);
    expect(html).toContain('drop-extras</td><td>service-shutdown analytics</td>');
  });
});

describe('stateIntervals', () => {
  it('covers the run with the monitor state, from normal', () => {
    const records: SimulationRecord[] = [
      { type: 'state', t: 1000, state: 'low', previous: 'normal' },
      { type: 'state', t: 3000, state: 'normal', previous: 'low' },
    ];
    expect(stateIntervals(records, 5000)).toEqual([
      { from: 0, to: 1000, state: 'normal' },
      { from: 1000, to: 3000, state: 'low' },
      { from: 3000, to: 5000, state: 'normal' },
    ]);
  });
});
