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
    // Signalled events: when the source saw the level (delivery may follow a blocked event loop).
    ...(event.signalledAt !== undefined ? { signalledAtMs: event.signalledAt } : {}),
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
  });
}

/**
 * An event as one human line, with the counts of an event computed from them:
 * `20:01:02.345  critical  /app  vmstat  pressure 97% (512 scanned, 12 reclaimed)`, or the reason
 * of a source that says why: `20:01:02.345  medium    /  system  limit in 2.1 s at 40 MiB/s`.
 */
export function eventToText(event: PressureEvent): string {
  const time = new Date(event.time).toISOString().slice(11, 23);
  const counts =
    event.pressure !== undefined
      ? `  pressure ${event.pressure}% (${event.scanned} scanned, ${event.reclaimed} reclaimed)`
      : '';
  const reason = event.reason !== undefined ? `  ${event.reason}` : '';
  return `${time}  ${event.level.padEnd(8)}  ${event.scope}  ${event.source}${counts}${reason}`;
}
