import type { PressureEvent } from '@memshed/core';
import { eventToJson, eventToText } from './format';

const counted: PressureEvent = {
  level: 'critical',
  scope: '/app',
  source: 'vmstat',
  time: Date.UTC(2026, 11, 2, 20, 1, 2, 345),
  pressure: 97,
  scanned: 512,
  reclaimed: 12,
};

const signalled: PressureEvent = {
  level: 'medium',
  scope: '/',
  source: 'system',
  time: Date.UTC(2026, 11, 2, 20, 1, 2, 345),
  signalledAt: Date.UTC(2026, 11, 2, 20, 1, 2, 120),
  reason: 'limit in 2.1 s at 40 MiB/s',
};

describe('eventToJson', () => {
  it('writes a counted event with its pressure and counts, and no signal fields', () => {
    expect(JSON.parse(eventToJson(counted))).toEqual({
      time: '2026-12-02T20:01:02.345Z',
      timeMs: counted.time,
      level: 'critical',
      scope: '/app',
      source: 'vmstat',
      pressure: 97,
      scanned: 512,
      reclaimed: 12,
    });
  });

  it('writes a signalled event with when its source saw the level and why', () => {
    expect(JSON.parse(eventToJson(signalled))).toEqual({
      time: '2026-12-02T20:01:02.345Z',
      timeMs: signalled.time,
      level: 'medium',
      scope: '/',
      source: 'system',
      signalledAtMs: signalled.signalledAt,
      reason: 'limit in 2.1 s at 40 MiB/s',
    });
  });
});

describe('eventToText', () => {
  it('writes the counts of a counted event', () => {
    expect(eventToText(counted)).toBe(
      '20:01:02.345  critical  /app  vmstat  pressure 97% (512 scanned, 12 reclaimed)',
    );
  });

  it("writes the source's reason of a signalled event", () => {
    expect(eventToText(signalled)).toBe('20:01:02.345  medium    /  system  limit in 2.1 s at 40 MiB/s');
  });
});
