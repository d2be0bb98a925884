import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from './demo';

describe('runDemo', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'memshed-demo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('closes the loop: pressure rises, the policy sheds, the state returns to normal', async () => {
    const lines: string[] = [];
    const out = join(dir, 'demo.html');
    const result = await runDemo({ speed: Infinity, out, write: (line) => lines.push(line) });

    const first = (state: string) => result.states.indexOf(state as never);
    expect(first('low')).toBe(0);
    expect(first('medium')).toBeGreaterThan(first('low'));
    expect(first('critical')).toBeGreaterThan(first('medium'));
    expect(result.states.at(-1)).toBe('normal');
    expect(result.finalState).toBe('normal');
    expect(result.oomKills).toBe(0);
    // Caches went first (at medium), the unimportant service at critical, the important one never.
    expect(result.actions[0]).toBe('purge thumbnails');
    expect(result.actions).toContain('stop analytics');
    expect(result.actions).not.toContain('stop api');
    expect(result.actions.indexOf('stop analytics')).toBeGreaterThan(
      result.actions.indexOf('purge thumbnails'),
    );

    // It printed what happened, and wrote the plot.
    expect(lines[0]).toContain('memshed demo');
    expect(lines).toContainEqual(expect.stringMatching(/memshed: medium -> CRITICAL$/));
    expect(lines).toContainEqual(expect.stringMatching(/-> stop analytics: \d+ MiB freed$/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Done: low at 1:\d\d, medium at \d:\d\d, critical at \d:\d\d, normal at \d:\d\d;/,
      ),
    );
    expect(readFileSync(out, 'utf8')).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  });

  it('usage falls when the policy acts', async () => {
    const result = await runDemo({ speed: Infinity, out: join(dir, 'again.html'), write: () => undefined });
    const stop = result.records.find((r) => r.type === 'action' && r.target === 'analytics')!;
    const around = result.records.filter(
      (r): r is Extract<typeof r, { type: 'sample' }> =>
        r.type === 'sample' && Math.abs(r.t - stop.t) <= 1000,
    );
    const usage = around.map((s) => s.groups.find((g) => g.path === '/sim/app')!.usage);
    expect(Math.min(...usage)).toBeLessThan(Math.max(...usage) - 64 * 1024 * 1024);
  });
});
