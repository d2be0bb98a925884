import fc from 'fast-check';
import {
  VMPRESSURE_CRITICAL_PRIORITY,
  VMPRESSURE_LEVEL_CRITICAL,
  VMPRESSURE_LEVEL_MEDIUM,
  VMPRESSURE_WINDOW,
  levelForPercent,
  vmpressureLevel,
  vmpressurePercent,
} from './vmpressure';

/** mm/vmpressure.c's vmpressure_calc_level, transcribed line by line in BigInt. */
function kernelPercent(scanned: bigint, reclaimed: bigint): bigint {
  const scale = scanned + reclaimed;
  if (reclaimed >= scanned) return 0n;
  let pressure = scale - (reclaimed * scale) / scanned;
  pressure = (pressure * 100n) / scale;
  return pressure;
}

describe('vmpressure constants', () => {
  it('match the kernel', () => {
    expect(VMPRESSURE_WINDOW).toBe(32 * 16); // SWAP_CLUSTER_MAX * 16
    expect(VMPRESSURE_LEVEL_MEDIUM).toBe(60);
    expect(VMPRESSURE_LEVEL_CRITICAL).toBe(95);
    expect(VMPRESSURE_CRITICAL_PRIORITY).toBe(Math.floor(Math.log2(100 / 10)));
  });
});

describe('vmpressurePercent', () => {
  it.each([
    [512, 0, 100, 'critical'],
    [512, 25, 95, 'critical'],
    [512, 26, 94, 'medium'],
    [512, 204, 60, 'medium'],
    [512, 205, 59, 'low'],
    [600, 700, 0, 'low'],
    [512, 512, 0, 'low'],
  ] as const)('(%i scanned, %i reclaimed) -> %i%% %s', (scanned, reclaimed, percent, level) => {
    expect(vmpressurePercent(scanned, reclaimed)).toBe(percent);
    expect(vmpressureLevel(scanned, reclaimed)).toBe(level);
  });

  it('truncates at each step like unsigned long arithmetic', () => {
    // scale 3, reclaimed*scale/scanned = 3/2 = 1 (not 1.5): pressure = (3-1)*100/3 = 66
    expect(vmpressurePercent(2, 1)).toBe(66);
  });

  it('stays exact where reclaimed * scale passes 2^53', () => {
    const scanned = 2 ** 32;
    const reclaimed = 2 ** 32 - 12345;
    expect(vmpressurePercent(scanned, reclaimed)).toBe(
      Number(kernelPercent(BigInt(scanned), BigInt(reclaimed))),
    );
  });

  it.each([
    ['for every input up to 2^32', 2 ** 32],
    ['near the level boundaries of a window', 4096],
  ])('equals the BigInt transcription of the kernel %s', (_inputs, max) => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max }), fc.integer({ min: 0, max }), (scanned, reclaimed) => {
        return (
          vmpressurePercent(scanned, reclaimed) === Number(kernelPercent(BigInt(scanned), BigInt(reclaimed)))
        );
      }),
      { numRuns: 20000 },
    );
  });
});

describe('levelForPercent', () => {
  it('maps the thresholds inclusively', () => {
    expect(levelForPercent(0)).toBe('low');
    expect(levelForPercent(59)).toBe('low');
    expect(levelForPercent(60)).toBe('medium');
    expect(levelForPercent(94)).toBe('medium');
    expect(levelForPercent(95)).toBe('critical');
    expect(levelForPercent(100)).toBe('critical');
  });
});
