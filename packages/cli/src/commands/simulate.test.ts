import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ExitCode } from '../exit-codes';
import { main } from '../main';
import { bufferIo } from '../testing-io';
import { reportInterval } from './simulate-timeline';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memshed-simulate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function simulate(...args: string[]) {
  const io = bufferIo();
  const code = await main(['simulate', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('memshed simulate', () => {
  it('prints one JSON object per line, the same for the same seed', async () => {
    const first = await simulate('spike', '--json', '--seed', '4');
    const second = await simulate('spike', '--json', '--seed', '4');
    const other = await simulate('spike', '--json', '--seed', '5');
    expect(first.code).toBe(ExitCode.Ok);
    expect(second.out).toBe(first.out);
    expect(other.out).not.toBe(first.out);
    const records = first.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; t: number });
    expect(records[0]).toMatchObject({ type: 'start', scenario: 'spike', seed: 4 });
    expect(records.at(-1)).toMatchObject({ type: 'end', t: 300_000 });
    expect(new Set(records.map((r) => r.type))).toEqual(
      new Set(['start', 'sample', 'phase', 'state', 'fired', 'action', 'end']),
    );
  });

  it('prints a compact timeline: usage against the limit, pressure, state, actions', async () => {
    const { code, out } = await simulate('ramp', '--seed', '1');
    expect(code).toBe(ExitCode.Ok);
    const lines = out.split('\n');
    expect(lines[0]).toBe(
      'memshed simulate: ramp (seed 1): pressure builds to critical; shedding caches and a service brings it back to normal',
    );
    expect(out).toMatch(/^ {2}1:30 {2}▕█+▒+▏ {9}256\/256 {7}\d+% {2}low$/m);
    expect(out).toMatch(/^ +\d:\d\d {2}● state medium$/m);
    expect(out).toMatch(/^ +\d:\d\d {2}▼ trim-caches \(first run\): cache-purge thumbnails −\d+ MiB$/m);
    expect(out).toMatch(/^ +\d:\d\d {2}■ drop-extras \(first run\): service-shutdown analytics −\d+ MiB$/m);
    expect(out).toMatch(
      /done: 10:00 simulated; \d+ pressure events .*; 0 OOM kills; peak 256 MiB; final state normal/,
    );
    // No colour codes when the output is not a terminal.
    expect(out).not.toContain('\x1b[');
  });

  it('says why each run happened: a policy that keeps up runs again on new signals', async () => {
    const { code, out } = await simulate('refill', '--duration', '30s');
    expect(code).toBe(ExitCode.Ok);
    expect(out).toMatch(/^ +\d:\d\d {2}▼ trim-caches \(first run\): cache-purge responses −\d+ MiB$/m);
    expect(out).toMatch(
      /^ +\d:\d\d {2}▼ trim-caches \(run 2, new signal\): cache-purge responses −\d+ MiB$/m,
    );
  });

  it('reads --duration as every duration: with a unit, or milliseconds', async () => {
    const withUnit = await simulate('spike', '--json', '--seed', '4', '--duration', '10s');
    const milliseconds = await simulate('spike', '--json', '--seed', '4', '--duration', '10000');
    expect(withUnit.code).toBe(ExitCode.Ok);
    expect(milliseconds.out).toBe(withUnit.out);
    expect(JSON.parse(withUnit.out.trim().split('\n').at(-1)!)).toMatchObject({ type: 'end', t: 10_000 });
  });

  it('rehearses without policies when asked', async () => {
    const { out } = await simulate('ramp', '--no-policies', '--duration', '6m');
    expect(out).toContain('policies: none');
    expect(out).toMatch(/✖ OOM kill: web in \/sim\/app/);
  });

  it('writes the plot as SVG or HTML', async () => {
    const svg = join(dir, 'ramp.svg');
    const html = join(dir, 'ramp.html');
    expect((await simulate('ramp', '--plot', svg, '--duration', '2m')).out).toContain(
      `plot written to ${svg}`,
    );
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const json = await simulate('ramp', '--json', '--plot', html, '--duration', '2m');
    expect(json.err).toContain(`plot written to ${html}`);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('runs a scenario file, and exits 2 naming the file and key path when it is invalid', async () => {
    const good = join(dir, 'mine.yaml');
    writeFileSync(good, 'duration: 30s\nworkloads:\n  - { name: web, group: /, heap: 8MiB }\n');
    const ok = await simulate(relative(process.cwd(), good), '--json');
    expect(ok.code).toBe(ExitCode.Ok);
    expect(ok.out).toContain('"scenario":"mine"');

    const bad = join(dir, 'ramp.yaml');
    writeFileSync(bad, 'workloads:\n  - name: web\n    group: /\n    rate: fast\n');
    const failed = await simulate(bad);
    expect(failed.code).toBe(ExitCode.Usage);
    expect(failed.err).toBe(
      `memshed: ${bad}: workloads[0].rate: Invalid rate 'fast'. Fix: write a size per second such as '2MiB/s' (or per minute, '30MiB/m'), or a number of bytes per second (line 4, column 11)\n`,
    );
  });

  it('exits 2 on an unknown scenario, a bad seed, speed or plot file', async () => {
    const unknown = await simulate('rmp');
    expect(unknown.code).toBe(ExitCode.Usage);
    expect(unknown.err).toContain("Unknown scenario 'rmp'");
    expect(unknown.err).toContain("did you mean 'ramp'?");
    expect((await simulate('ramp', '--seed', 'x')).err).toContain(
      "--seed must be an integer from 0 to 4294967295, got 'x'",
    );
    expect((await simulate('ramp', '--speed', '0')).code).toBe(ExitCode.Usage);
    const plot = await simulate('ramp', '--plot', 'out.png');
    expect(plot.code).toBe(ExitCode.Usage);
    expect(plot.err).toContain("--plot must name a .svg or .html file, got 'out.png'");
  });

  it('lists the built-in scenarios in its help', async () => {
    const io = bufferIo();
    expect(await main(['simulate', '--help'], io)).toBe(ExitCode.Ok);
    expect(io.out()).toMatch(/Built-in scenarios:\n {2}leak {8}a leak without swap/);
    for (const name of ['ramp', 'spike', 'steady', 'thrash']) expect(io.out()).toContain(`  ${name}`);
  });

  it('paces the virtual clock with --speed', async () => {
    const started = Date.now();
    const { code } = await simulate('steady', '--json', '--duration', '10s', '--speed', '50');
    expect(code).toBe(ExitCode.Ok);
    // 10 s at 50x: about 200 ms of wall time.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('reportInterval', () => {
  it('gives about 40 rows on round intervals', () => {
    expect(reportInterval(600_000)).toBe(15_000);
    expect(reportInterval(300_000)).toBe(10_000);
    expect(reportInterval(30_000)).toBe(1_000);
  });
});
