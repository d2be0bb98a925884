import { renderPlotSvg, STATE_COLORS, type PlotOptions } from './plot';
import type { SimulationRecord } from './simulation';
import { escape, formatMiB, formatTime } from './svg-elements';

/**
 * The plot inside a small HTML page, with a summary of the run (events by level, every action and
 * OOM kill) under it. Self-contained: open it in any browser.
 */
export function renderPlotHtml(records: readonly SimulationRecord[], options: PlotOptions = {}): string {
  const start = records.find((r): r is Extract<SimulationRecord, { type: 'start' }> => r.type === 'start');
  const end = records.find((r): r is Extract<SimulationRecord, { type: 'end' }> => r.type === 'end');
  const rows = records
    .filter(
      (r): r is Extract<SimulationRecord, { type: 'action' | 'oom' | 'state' }> =>
        r.type === 'action' || r.type === 'oom' || r.type === 'state',
    )
    .map((r) => {
      if (r.type === 'state') {
        return `<tr><td>${formatTime(r.t)}</td><td><span class="chip" style="background:${STATE_COLORS[r.state]}">${r.state}</span></td><td>state ${r.previous} &rarr; ${r.state}</td><td></td></tr>`;
      }
      if (r.type === 'oom') {
        return `<tr class="oom"><td>${formatTime(r.t)}</td><td>OOM</td><td>${escape(
          r.workload ? `killed ${r.workload} in ${r.group}` : `allocation failed in ${r.group}`,
        )}</td><td>${formatMiB(r.freedBytes)}</td></tr>`;
      }
      return `<tr><td>${formatTime(r.t)}</td><td>${escape(r.by ?? '')}</td><td>${escape(
        `${r.action} ${r.target}`,
      )}</td><td>${formatMiB(r.freedBytes)}</td></tr>`;
    });
  const name = start ? `${start.scenario} (seed ${start.seed})` : 'simulation';
  const events = end
    ? `${end.events.low} low, ${end.events.medium} medium, ${end.events.critical} critical`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memshed simulate: ${escape(name)}</title>
<style>
  body { margin: 0; background: #f8fafc; color: #111827; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif; }
  main { max-width: 1140px; margin: 24px auto; padding: 0 20px; }
  figure { margin: 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px; overflow-x: auto; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  p.meta { color: #6b7280; margin: 0 0 16px; }
  table { border-collapse: collapse; width: 100%; margin-top: 18px; background: #fff; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e5e7eb; font-variant-numeric: tabular-nums; }
  th { color: #6b7280; font-weight: 600; }
  tr.oom td { color: #991b1b; font-weight: 600; }
  .chip { padding: 1px 8px; border-radius: 9px; }
</style>
</head>
<body>
<main>
<h1>memshed simulate: ${escape(name)}</h1>
<p class="meta">${escape(start?.description ?? '')}${events ? ` &mdash; events: ${events}` : ''}${
    end ? ` &mdash; final state: ${end.state}` : ''
  }</p>
<figure>
${renderPlotSvg(records, options).trim()}
</figure>
<table>
<thead><tr><th>time</th><th>by</th><th>what</th><th>freed</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</main>
</body>
</html>
`;
}
