import { validateOptions, type PressureLevel } from '@memshed/core';
import { GrowthTrend } from './growth-trend';
import {
  TimeToLimit,
  describeTimeToLimit,
  headroomReading,
  higherLevel,
  levelWithPrediction,
  timeToLimitOption,
} from './time-to-limit';

const MiB = 1024 * 1024;
const LIMIT = 256 * MiB;
const PERIOD = 100;

/**
 * Reads `usage(t)` every 100 ms of virtual time from 0 to `until` (ms) and returns the level changes
 * as `[time, level]`, the way a source polling from its floor sees them.
 */
/** The signal with its optional critical on, as these tests follow both levels. */
const WITH_CRITICAL = { critical: '1s' };

function levelsOf(usage: (time: number) => number, until: number, input: object = WITH_CRITICAL) {
  const timeToLimit = new TimeToLimit(timeToLimitOption.parse(input) as never);
  const changes: [number, PressureLevel | undefined][] = [];
  let previous: PressureLevel | undefined;
  for (let time = 0; time <= until; time += PERIOD) {
    const { level } = timeToLimit.observe(time, Math.min(usage(time), LIMIT), LIMIT);
    if (level !== previous) changes.push([time, level]);
    previous = level;
  }
  return changes;
}

/** Usage growing at `rate` MiB/s from `start` MiB at time 0. */
const growing =
  (rate: number, start = 128) =>
  (time: number) =>
    (start + (rate * time) / 1000) * MiB;

describe(TimeToLimit, () => {
  describe('.observe', () => {
    it('at 250 MiB/s from half of 256 MiB, is critical on the third reading, 300 ms before the limit', () => {
      // Limit reached at 512 ms; the usage thresholds (75%, 85%) would say medium at 300, critical at 400.
      expect(levelsOf(growing(250), 500)).toEqual([[200, 'critical']]);
    });

    it('at 25 MiB/s, is medium under 3 s before the limit and critical under 1 s', () => {
      // Limit reached at 5120 ms.
      expect(levelsOf(growing(25), 5100)).toEqual([
        [2200, 'medium'],
        [4200, 'critical'],
      ]);
    });

    it('at 1 MiB/s, says nothing until the limit is seconds away', () => {
      expect(levelsOf(growing(1, 240), 16_000)).toEqual([
        [13_100, 'medium'],
        [15_100, 'critical'],
      ]);
    });

    it('says nothing of flat usage, however close to the limit', () => {
      expect(levelsOf(() => 250 * MiB, 5000)).toEqual([]);
    });

    it('says nothing of shrinking usage', () => {
      expect(levelsOf(growing(-100, 250), 1000)).toEqual([]);
    });

    it('does not trip on a one-off jump followed by flat usage', () => {
      expect(levelsOf((time) => (time < 1000 ? 150 : 240) * MiB, 3000)).toEqual([]);
    });

    it('keeps the rate of steady growth through one spike in it', () => {
      const timeToLimit = new TimeToLimit(timeToLimitOption.parse(WITH_CRITICAL) as never);
      let reading = timeToLimit.observe(0, 0, LIMIT);
      for (let time = 0; time <= 1000; time += PERIOD) {
        const spike = time >= 500 ? 40 : 0;
        reading = timeToLimit.observe(time, growing(25)(time) + spike * MiB, LIMIT);
      }
      expect(reading.rate).toBeCloseTo(25 * MiB, -3);
      // 193 MiB at 25 MiB/s: 2.5 s left, medium; the spike did not make it look like 400 MiB/s.
      expect(reading.level).toBe('medium');
      expect(reading.reason).toBe('limit in 2.5 s at 25 MiB/s');
    });

    it('follows bursts: critical while a burst heads for the limit, quiet in the pauses', () => {
      // 200 ms at 250 MiB/s every second (50 MiB per burst), from 100 MiB.
      const bursts = (time: number) => {
        const second = Math.floor(time / 1000);
        const into = Math.min(time % 1000, 200);
        return (100 + second * 50 + (250 * into) / 1000) * MiB;
      };
      // Each burst is seen on its third reading (its run of growth starts at its first), with 106,
      // 56 and 6 MiB left at 250 MiB/s: critical; the pauses give no rate, so nothing.
      expect(levelsOf(bursts, 2900)).toEqual([
        [200, 'critical'],
        [300, undefined],
        [1200, 'critical'],
        [1300, undefined],
        [2200, 'critical'],
        [2300, undefined],
      ]);
    });

    it('starts again when the limit moves', () => {
      const timeToLimit = new TimeToLimit(timeToLimitOption.parse(WITH_CRITICAL) as never);
      timeToLimit.observe(0, 128 * MiB, LIMIT);
      timeToLimit.observe(100, 153 * MiB, LIMIT);
      expect(timeToLimit.observe(200, 178 * MiB, LIMIT).level).toBe('critical');
      expect(timeToLimit.observe(300, 203 * MiB, 2 * LIMIT)).toMatchObject({
        level: undefined,
        rate: undefined,
      });
    });

    it("honours its thresholds, and 'never' turns a level off", () => {
      expect(levelsOf(growing(25), 5100, { medium: '5s', critical: 'never' })).toEqual([[200, 'medium']]);
    });
  });

  describe('.describe', () => {
    it('says the rate and the time left, or that usage is not growing', () => {
      const timeToLimit = new TimeToLimit(timeToLimitOption.parse(WITH_CRITICAL) as never);
      expect(timeToLimit.describe()).toBe('not growing');
      for (const time of [0, 100, 200]) timeToLimit.observe(time, growing(250)(time), LIMIT);
      expect(timeToLimit.describe()).toBe('growing 250 MiB/s, limit in 0.3 s');
    });
  });

  describe('.floor', () => {
    it('is a share of the limit or a size', () => {
      expect(new TimeToLimit(timeToLimitOption.parse({}) as never).floor(LIMIT)).toBe(128 * MiB);
      expect(new TimeToLimit(timeToLimitOption.parse({ from: '64MiB' }) as never).floor(LIMIT)).toBe(
        64 * MiB,
      );
      expect(new TimeToLimit(timeToLimitOption.parse({}) as never).floor(Infinity)).toBe(Infinity);
    });
  });
});

describe(GrowthTrend, () => {
  it('gives no rate before `samples` readings of growth, and ignores readings too close together', () => {
    const trend = new GrowthTrend({ window: 1000, samples: 4 });
    trend.add(0, 0);
    trend.add(100, 10);
    trend.add(105, 1000); // 5 ms later: not a reading of the trend
    trend.add(200, 20);
    expect(trend.rate()).toBeUndefined();
    trend.add(300, 30);
    expect(trend.rate()).toBe(100);
    expect(trend.timeTo(130)).toBe(1000);
  });

  it('forgets readings older than the window', () => {
    const trend = new GrowthTrend({ window: 300, samples: 3 });
    [0, 100, 200, 300].forEach((time) => trend.add(time, time * 10)); // 10 000 per second
    [400, 500, 600, 700].forEach((time) => trend.add(time, 3000 + (time - 300)));
    expect(trend.rate()).toBe(1000);
  });
});

describe('headroomReading', () => {
  it("carries the last read and its time to limit's rate and time left, in bytes per second and ms", () => {
    const timeToLimit = new TimeToLimit(timeToLimitOption.parse({}) as never);
    const read = (time: number) => {
      const sample = { time, used: growing(250)(time), limit: LIMIT };
      timeToLimit.observe(sample.time, sample.used, sample.limit);
      return headroomReading('heap', sample, timeToLimit);
    };
    expect([read(0), read(100)]).toEqual([
      expect.objectContaining({ growthBytesPerSecond: undefined, timeToLimitMs: Infinity }),
      expect.objectContaining({ growthBytesPerSecond: undefined, timeToLimitMs: Infinity }),
    ]);
    expect(read(200)).toEqual({
      target: 'heap',
      usedBytes: 178 * MiB,
      limitBytes: LIMIT,
      growthBytesPerSecond: 250 * MiB,
      timeToLimitMs: 312,
      time: 200,
    });
  });

  it('has no growth and no time to limit without a prediction (timeToLimit: false)', () => {
    expect(headroomReading('host', { time: 5, used: 3 * MiB, limit: 4 * MiB }, undefined)).toEqual({
      target: 'host',
      usedBytes: 3 * MiB,
      limitBytes: 4 * MiB,
      growthBytesPerSecond: undefined,
      timeToLimitMs: undefined,
      time: 5,
    });
  });
});

describe('describeTimeToLimit', () => {
  it('says when and how fast', () => {
    expect(describeTimeToLimit(800, 120 * MiB)).toBe('limit in 0.8 s at 120 MiB/s');
    expect(describeTimeToLimit(90_000, MiB)).toBe('limit in 90s at 1 MiB/s');
  });
});

describe('higherLevel', () => {
  it('is the higher of two levels, either absent', () => {
    expect(higherLevel('medium', 'critical')).toBe('critical');
    expect(higherLevel(undefined, 'low')).toBe('low');
    expect(higherLevel('medium', undefined)).toBe('medium');
    expect(higherLevel(undefined, undefined)).toBeUndefined();
  });
});

describe('timeToLimitOption', () => {
  it('is off with false, and refuses fewer than 3 samples with the key path', () => {
    expect(timeToLimitOption.parse(false)).toBe(false);
    expect(validateOptions(timeToLimitOption, { samples: 2 })).toMatchObject({
      ok: false,
      issues: [{ path: 'samples' }],
    });
  });
});

describe('timeToLimitOption', () => {
  it('has no predicted critical unless asked for', () => {
    expect(timeToLimitOption.parse({})).toMatchObject({ medium: 3000, critical: Infinity });
  });
});

describe('levelWithPrediction', () => {
  it('raises the measured level by the prediction, and says when the prediction decided it', () => {
    expect(levelWithPrediction('medium', undefined)).toEqual({ level: 'medium', byPrediction: true });
    expect(levelWithPrediction('medium', 'critical')).toEqual({ level: 'critical', byPrediction: false });
    expect(levelWithPrediction(undefined, 'medium')).toEqual({ level: 'medium', byPrediction: false });
    expect(levelWithPrediction(undefined, undefined)).toEqual({ level: undefined, byPrediction: false });
  });

  it('heeds a predicted critical as medium until the measured level is medium or above', () => {
    expect(levelWithPrediction('critical', undefined)).toEqual({ level: 'medium', byPrediction: true });
    expect(levelWithPrediction('critical', 'low')).toEqual({ level: 'medium', byPrediction: true });
    expect(levelWithPrediction('critical', 'medium')).toEqual({ level: 'critical', byPrediction: true });
  });
});
