import type { PressureState } from '@memshed/core';
import type { SampleGroup, SimulationRecord } from './simulation';
import {
  COLORS,
  MIB,
  area,
  band,
  escape,
  f,
  formatMiB,
  formatNumber,
  formatTime,
  line,
  niceCeiling,
  niceStep,
  niceTimeStep,
  polyline,
  rect,
  text,
} from './svg-elements';

/** The colours of the monitor's states: the level ribbon and the bands behind the panels. */
export const STATE_COLORS: Readonly<Record<PressureState, string>> = Object.freeze({
  normal: '#dcfce7',
  low: '#bfdbfe',
  medium: '#fcd34d',
  critical: '#f87171',
});

/** Options of {@link renderPlotSvg}. */
export interface PlotOptions {
  /** Width in CSS pixels. Default 1100. */
  readonly width?: number;
  /** Height in CSS pixels. Default 680. */
  readonly height?: number;
  /** The group to plot; default the recording's focus. */
  readonly group?: string;
}

interface Marker {
  readonly t: number;
  readonly kind: 'purge' | 'stop' | 'oom';
  readonly label: string;
}

/**
 * Draws a simulation's recording as an SVG picture: memory of the focus group over time (anonymous
 * and page cache stacked, usage, the limit), the kernel's pressure per sample with the 60% and 95%
 * thresholds, the monitor's state as coloured bands and a ribbon, and every shedding action and OOM
 * kill marked where it happened. Written by hand (no chart library); the same records give the same
 * bytes.
 *
 * @example
 * writeFileSync('ramp.svg', renderPlotSvg(simulation.records));
 */
export function renderPlotSvg(records: readonly SimulationRecord[], options: PlotOptions = {}): string {
  const start = records.find((r): r is Extract<SimulationRecord, { type: 'start' }> => r.type === 'start');
  if (!start) throw new Error('renderPlotSvg: the recording has no start record');
  const focus = options.group ?? start.focus;
  const width = options.width ?? 1100;
  const height = options.height ?? 680;
  const samples = records
    .filter((r): r is Extract<SimulationRecord, { type: 'sample' }> => r.type === 'sample')
    .map((r) => ({ t: r.t, group: r.groups.find((g) => g.path === focus) }))
    .filter((s): s is { t: number; group: SampleGroup } => s.group !== undefined);
  const end = records.find((r): r is Extract<SimulationRecord, { type: 'end' }> => r.type === 'end');
  const duration = Math.max(end?.t ?? 0, samples.at(-1)?.t ?? 0, 1);
  const limit = start.groups.find((g) => g.path === focus)?.limit;

  // Layout.
  const left = 78;
  const right = width - 100;
  const memoryTop = 170;
  const memoryBottom = Math.round(height * 0.6);
  const ribbonTop = memoryBottom + 10;
  const ribbonBottom = ribbonTop + 18;
  const pressureTop = ribbonBottom + 18;
  const pressureBottom = height - 62;
  const x = (t: number) => left + ((right - left) * t) / duration;
  const peak = Math.max(limit ?? 0, ...samples.map((s) => s.group.usage + s.group.swap));
  const memoryMax = niceCeiling((peak * 1.08) / MIB);
  const yMemory = (bytes: number) => memoryBottom - ((memoryBottom - memoryTop) * bytes) / MIB / memoryMax;
  const yPressure = (percent: number) => pressureBottom - ((pressureBottom - pressureTop) * percent) / 100;

  const out: string[] = [];
  const title = `memshed simulate: ${start.scenario}`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif" font-size="12" role="img" aria-labelledby="plot-title plot-desc">`,
    `<title id="plot-title">${escape(title)}</title>`,
    `<desc id="plot-desc">Memory of ${escape(focus)} against its limit, reclaim pressure per sample and the monitor's state over ${escape(formatTime(duration))} of simulated time, with shedding actions marked.</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(left, 34, escape(title), { size: 18, weight: 600 }),
    text(left, 56, escape(start.description || 'simulated memory pressure'), { size: 13 }),
    text(
      left,
      76,
      escape(
        [
          `seed ${start.seed}`,
          `group ${focus}`,
          limit === undefined ? 'no limit' : `limit ${formatMiB(limit)}`,
          `${formatTime(duration)} simulated`,
          end ? `${end.actions} action${end.actions === 1 ? '' : 's'}` : undefined,
          end ? `${end.oomKills} OOM kill${end.oomKills === 1 ? '' : 's'}` : undefined,
          'memshed vmscan-sim',
        ]
          .filter(Boolean)
          .join('  ·  '),
      ),
      { size: 12, fill: COLORS.muted },
    ),
  );

  const hasSwap = samples.some((s) => s.group.swap > 0);
  out.push(legend(left, 104, hasSwap));

  // State bands behind both panels, and the ribbon.
  const intervals = stateIntervals(records, duration);
  for (const { from, to, state } of intervals) {
    if (state === 'normal') continue;
    const x0 = x(from);
    const w = Math.max(0.5, x(to) - x0);
    for (const [top, bottom] of [
      [memoryTop, memoryBottom],
      [pressureTop, pressureBottom],
    ]) {
      out.push(rect(x0, top, w, bottom - top, STATE_COLORS[state], 0.28));
    }
  }
  out.push('<g id="state-ribbon">');
  for (const { from, to, state } of intervals) {
    out.push(
      rect(x(from), ribbonTop, Math.max(0.5, x(to) - x(from)), ribbonBottom - ribbonTop, STATE_COLORS[state]),
    );
  }
  out.push('</g>');
  out.push(text(left - 8, ribbonBottom - 5, 'state', { anchor: 'end', fill: COLORS.muted, size: 11 }));

  // Grid and axes.
  const memoryStep = niceStep(memoryMax, 6);
  for (let v = 0; v <= memoryMax + 1e-9; v += memoryStep) {
    const y = yMemory(v * MIB);
    out.push(line(left, y, right, y, COLORS.grid, 1));
    out.push(text(left - 8, y + 4, formatNumber(v), { anchor: 'end', fill: COLORS.axis, size: 11 }));
  }
  out.push(
    text(22, (memoryTop + memoryBottom) / 2, 'memory (MiB)', {
      anchor: 'middle',
      fill: COLORS.axis,
      size: 12,
      rotate: true,
    }),
  );
  for (const v of [0, 25, 50, 75, 100]) {
    const y = yPressure(v);
    out.push(line(left, y, right, y, COLORS.grid, 1));
    out.push(text(left - 8, y + 4, `${v}%`, { anchor: 'end', fill: COLORS.axis, size: 11 }));
  }
  out.push(
    text(22, (pressureTop + pressureBottom) / 2, 'pressure', {
      anchor: 'middle',
      fill: COLORS.axis,
      size: 12,
      rotate: true,
    }),
  );
  const timeStep = niceTimeStep(duration);
  for (let t = 0; t <= duration + 1e-9; t += timeStep) {
    const xt = x(t);
    out.push(line(xt, memoryTop, xt, memoryBottom, COLORS.grid, 1, '2 4'));
    out.push(line(xt, pressureTop, xt, pressureBottom, COLORS.grid, 1, '2 4'));
    out.push(line(xt, pressureBottom, xt, pressureBottom + 5, COLORS.axis, 1));
    out.push(text(xt, pressureBottom + 19, formatTime(t), { anchor: 'middle', fill: COLORS.axis, size: 11 }));
  }
  out.push(
    text((left + right) / 2, pressureBottom + 40, 'simulated time (min:s)', {
      anchor: 'middle',
      fill: COLORS.axis,
      size: 12,
    }),
  );

  // Phases of the scenario, as faint labelled lines.
  for (const record of records) {
    if (record.type !== 'phase' || record.t === 0 || record.label === undefined) continue;
    const xt = x(record.t);
    out.push(line(xt, memoryTop, xt, memoryBottom, COLORS.phase, 1, '1 3'));
    out.push(text(xt + 4, memoryBottom - 6, escape(record.label), { fill: COLORS.muted, size: 10 }));
  }

  // Memory: anonymous and page cache stacked, usage on top, the limit.
  if (samples.length > 0) {
    const anon = samples.map((s) => [x(s.t), yMemory(s.group.anon)] as const);
    const cache = samples.map((s) => [x(s.t), yMemory(s.group.anon + s.group.file)] as const);
    out.push(area(anon, memoryBottom, COLORS.anon, 0.5));
    out.push(band(cache, anon, COLORS.file, 0.45));
    if (hasSwap) {
      out.push(
        polyline(
          samples.map((s) => [x(s.t), yMemory(s.group.swap)] as const),
          COLORS.swap,
          1.5,
          '4 3',
        ),
      );
    }
    out.push(
      polyline(
        samples.map((s) => [x(s.t), yMemory(s.group.usage)] as const),
        COLORS.usage,
        2.2,
      ),
    );
  }
  if (limit !== undefined) {
    out.push(line(left, yMemory(limit), right, yMemory(limit), COLORS.limit, 1.6, '7 4'));
    out.push(
      text(right + 6, yMemory(limit) + 4, `limit ${formatMiB(limit)}`, { fill: COLORS.limit, size: 11 }),
    );
  }

  // Pressure per sample, coloured by the level the kernel gives that percentage.
  const thresholds: [number, string, string][] = [
    [60, 'medium 60%', '#b45309'],
    [95, 'critical 95%', '#b91c1c'],
  ];
  for (const [value, label, colour] of thresholds) {
    out.push(line(left, yPressure(value), right, yPressure(value), colour, 1, '5 4'));
    out.push(text(right + 6, yPressure(value) + 4, label, { fill: colour, size: 11 }));
  }
  for (let i = 0; i < samples.length; i++) {
    const pressure = samples[i].group.pressure;
    if (pressure === undefined) continue;
    const x1 = x(samples[i].t);
    const x0 = i > 0 ? x(samples[i - 1].t) : x1 - 1;
    const level = pressure >= 95 ? 'critical' : pressure >= 60 ? 'medium' : 'low';
    const fill = { low: '#3b82f6', medium: '#d97706', critical: '#dc2626' }[level];
    const y = yPressure(Math.max(pressure, 1));
    out.push(rect(x0, y, Math.max(0.8, x1 - x0), pressureBottom - y, fill, 0.85));
  }

  // Frames.
  out.push(rect(left, memoryTop, right - left, memoryBottom - memoryTop, 'none', 1, COLORS.axis));
  out.push(rect(left, pressureTop, right - left, pressureBottom - pressureTop, 'none', 1, COLORS.axis));

  // Actions and OOM kills, with labels in a lane above the memory panel.
  // Stops and kills get their labels first; purges take the room left.
  const markers = collectMarkers(records);
  const taken: [number, number][][] = [[], []];
  const colourOf = (kind: Marker['kind']) =>
    kind === 'purge' ? COLORS.purge : kind === 'stop' ? COLORS.stop : COLORS.oom;
  for (const marker of markers) {
    const xt = x(marker.t);
    const colour = colourOf(marker.kind);
    out.push(line(xt, memoryTop, xt, pressureBottom, colour, 1.2, marker.kind === 'oom' ? undefined : '3 2'));
  }
  for (const marker of [
    ...markers.filter((m) => m.kind !== 'purge'),
    ...markers.filter((m) => m.kind === 'purge'),
  ]) {
    const xt = x(marker.t);
    const colour = colourOf(marker.kind);
    out.push(markerShape(marker.kind, xt, memoryTop - 4, colour));
    const from = xt - 2;
    const to = xt + marker.label.length * 6.2 + 6;
    if (to > width - 4) continue;
    const row = taken.findIndex((spans) => spans.every(([a, b]) => to < a - 4 || from > b + 4));
    if (row < 0) continue;
    taken[row].push([from, to]);
    out.push(text(xt + 2, memoryTop - 16 - row * 15, escape(marker.label), { fill: colour, size: 11 }));
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The monitor's state over time, from the recording's state changes. */
export function stateIntervals(
  records: readonly SimulationRecord[],
  duration: number,
): { from: number; to: number; state: PressureState }[] {
  const intervals: { from: number; to: number; state: PressureState }[] = [];
  let state: PressureState = 'normal';
  let from = 0;
  for (const record of records) {
    if (record.type !== 'state') continue;
    if (record.t > from) intervals.push({ from, to: record.t, state });
    state = record.state;
    from = record.t;
  }
  if (duration > from) intervals.push({ from, to: duration, state });
  return intervals;
}

/** Actions grouped by time and policy (`trim-caches -23 MiB`), stops by service, OOM kills. */
function collectMarkers(records: readonly SimulationRecord[]): Marker[] {
  const markers: Marker[] = [];
  let purge: { t: number; by: string; freed: number } | undefined;
  const flush = () => {
    if (purge) markers.push({ t: purge.t, kind: 'purge', label: `${purge.by} −${formatMiB(purge.freed)}` });
    purge = undefined;
  };
  for (const record of records) {
    if (record.type === 'action' && record.action === 'cache-purge') {
      const by = record.by ?? 'purge';
      if (purge && purge.t === record.t && purge.by === by) {
        purge.freed += record.freedBytes;
        continue;
      }
      flush();
      purge = { t: record.t, by, freed: record.freedBytes };
      continue;
    }
    if (record.type === 'action') {
      flush();
      const verb = record.action === 'service-shutdown' ? 'stop' : record.action;
      markers.push({
        t: record.t,
        kind: 'stop',
        label: `${verb} ${record.target} −${formatMiB(record.freedBytes)}`,
      });
    } else if (record.type === 'oom') {
      flush();
      markers.push({
        t: record.t,
        kind: 'oom',
        label: record.workload ? `OOM kill ${record.workload}` : 'OOM',
      });
    }
  }
  flush();
  return markers;
}

function legend(x0: number, y: number, swap: boolean): string {
  const items: string[] = [];
  const segment =
    (colour: string, dash?: string, weight = 2.2) =>
    (at: number) =>
      line(at, y, at + 18, y, colour, weight, dash);
  const box =
    (colour: string, opacity = 1) =>
    (at: number) =>
      rect(at, y - 6, 18, 12, colour, opacity);
  const marker = (kind: Marker['kind'], colour: string) => (at: number) =>
    markerShape(kind, at + 9, y + 5, colour);
  const entries: [(at: number) => string, string][] = [
    [segment(COLORS.usage), 'usage'],
    [segment(COLORS.limit, '7 4', 1.6), 'limit'],
    [box(COLORS.anon, 0.5), 'anonymous'],
    [box(COLORS.file, 0.45), 'page cache'],
    ...(swap ? [[segment(COLORS.swap, '4 3', 1.5), 'swap'] as [(at: number) => string, string]] : []),
    [box(STATE_COLORS.normal), 'normal'],
    [box(STATE_COLORS.low), 'low'],
    [box(STATE_COLORS.medium), 'medium'],
    [box(STATE_COLORS.critical), 'critical'],
    [marker('purge', COLORS.purge), 'cache purge'],
    [marker('stop', COLORS.stop), 'service stop'],
    [marker('oom', COLORS.oom), 'OOM kill'],
  ];
  let x = x0;
  for (const [draw, label] of entries) {
    items.push(draw(x), text(x + 24, y + 4, label, { fill: COLORS.text, size: 12 }));
    x += 24 + label.length * 6.6 + 16;
  }
  return items.join('\n');
}

function markerShape(kind: Marker['kind'], x: number, y: number, colour: string): string {
  if (kind === 'oom') {
    return `<path d="M${f(x - 5)} ${f(y - 10)}L${f(x + 5)} ${f(y)}M${f(x + 5)} ${f(y - 10)}L${f(x - 5)} ${f(y)}" stroke="${colour}" stroke-width="2.4" fill="none"/>`;
  }
  if (kind === 'stop') {
    return `<rect x="${f(x - 5)}" y="${f(y - 10)}" width="10" height="10" fill="${colour}"/>`;
  }
  return `<path d="M${f(x - 6)} ${f(y - 10)}L${f(x + 6)} ${f(y - 10)}L${f(x)} ${f(y)}Z" fill="${colour}"/>`;
}
