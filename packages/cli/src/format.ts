import type { PressureEvent } from '@memshed/core';

/** An event as one JSON line: `{"time","level","scope","source",...}` (time as ISO 8601 and epoch ms). */
export function eventToJson(event: PressureEvent): string {
  return JSON.stringify({
    time: new Date(event.time).toISOString(),
    timeMs: event.time,
    level: event.level,
    scope: event.scope,
    source: event.source,
    ...(event.pressure !== undefined
      ? { pressure: event.pressure, scanned: event.scanned, reclaimed: event.reclaimed }
      : {}),
  });
}

/** An event as one human line: `20:01:02.345  critical  /app  cgroup-v1  pressure 97% (512/12)`. */
export function eventToText(event: PressureEvent): string {
  const time = new Date(event.time).toISOString().slice(11, 23);
  const counts =
    event.pressure !== undefined
      ? `  pressure ${event.pressure}% (${event.scanned} scanned, ${event.reclaimed} reclaimed)`
      : '';
  return `${time}  ${event.level.padEnd(8)}  ${event.scope}  ${event.source}${counts}`;
}
