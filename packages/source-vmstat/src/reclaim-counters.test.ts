import fc from 'fast-check';
import { parseMemoryStat, parseVmstat } from './reclaim-counters';

describe('parseVmstat', () => {
  it('sums the anon and file counters, which include memory-cgroup reclaim', () => {
    const text =
      'nr_free_pages 100\npgscan_kswapd 5\npgscan_direct 6\npgscan_anon 10\npgscan_file 990\npgsteal_anon 0\npgsteal_file 400\noom_kill 2\n';
    expect(parseVmstat(text)).toEqual({ ok: true, value: { scanned: 1000, reclaimed: 400, oomKills: 2 } });
  });

  it('falls back to the per-reclaimer counters of older kernels', () => {
    const text =
      'pgscan_kswapd 100\npgscan_direct 20\npgscan_khugepaged 1\npgsteal_kswapd 90\npgsteal_direct 10\n';
    expect(parseVmstat(text)).toEqual({
      ok: true,
      value: { scanned: 121, reclaimed: 100, oomKills: undefined },
    });
  });

  it('says what is missing', () => {
    expect(parseVmstat('nr_free_pages 1\n')).toEqual({
      ok: false,
      error: 'no pgscan_*/pgsteal_* counters (expected pgscan_anon, pgscan_file, pgsteal_anon, pgsteal_file)',
    });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => typeof parseVmstat(text).ok === 'boolean'),
    );
  });
});

describe('parseMemoryStat', () => {
  it('reads pgscan and pgsteal of a cgroup v2 group', () => {
    expect(parseMemoryStat('anon 4096\nfile 8192\npgscan 700\npgsteal 300\n')).toEqual({
      ok: true,
      value: { scanned: 700, reclaimed: 300, oomKills: undefined },
    });
  });

  it('explains cgroup v1 memory.stat', () => {
    const result = parseMemoryStat('cache 0\nrss 0\n');
    expect(result.ok === false && result.error).toContain('cgroup v1 memory.stat has none');
  });
});
