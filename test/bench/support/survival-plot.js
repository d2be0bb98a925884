// The plot of test/bench/survival.js `--plot FILE`: the cgroup's memory usage over each run, one
// panel per payload and limit, one line per guard, the limit dashed, a cross where a service died.
// Plain SVG (no dependency): README's "Why memshed" shows docs/images/survival-256m.svg.
// renderGrowthSvg draws test/bench/growth.js `--plot FILE`: warning lead time and % served
// against the growth rate.
'use strict';

const GUARD_STYLE = {
  none: { color: '#c62828', label: 'without memshed' },
  memshed: { color: '#2e7d32', label: "memshed's default policy" },
  'under-pressure': { color: '#ef6c00', label: "@fastify/under-pressure's checks" },
  vmstat: { color: '#6a1b9a', label: 'memshed, vmstat source only' },
  psi: { color: '#1565c0', label: 'memshed, psi source only' },
};
const PAYLOAD_LABEL = { string: 'JS strings (V8 heap)', buffer: 'Buffers (off-heap)' };

const PANEL = { width: 460, height: 260, left: 52, right: 14, top: 34, bottom: 36 };

function escapeXml(text) {
  return String(text).replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c],
  );
}

/** One panel: the runs of one payload and limit. */
function panel(runs, x0, seconds) {
  const { width, height, left, right, top, bottom } = PANEL;
  const limit = runs[0].limitMiB;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const sx = (s) => x0 + left + (Math.min(s, seconds) / seconds) * plotW;
  const sy = (mib) => top + plotH - (Math.min(mib, limit * 1.05) / (limit * 1.05)) * plotH;
  const parts = [];
  parts.push(
    `<text x="${x0 + left}" y="${top - 12}" font-size="13" font-weight="bold">${escapeXml(`${PAYLOAD_LABEL[runs[0].payload] ?? runs[0].payload}, ${limit}M cgroup`)}</text>`,
  );
  // Axes and grid.
  const step = limit <= 256 ? 64 : 128;
  for (let mib = 0; mib <= limit; mib += step) {
    parts.push(
      `<line x1="${sx(0)}" y1="${sy(mib)}" x2="${sx(seconds)}" y2="${sy(mib)}" stroke="#e0e0e0"/>`,
      `<text x="${x0 + left - 6}" y="${sy(mib) + 4}" font-size="10" text-anchor="end">${mib}</text>`,
    );
  }
  for (let s = 0; s <= seconds; s += 10) {
    parts.push(
      `<line x1="${sx(s)}" y1="${top + plotH}" x2="${sx(s)}" y2="${top + plotH + 4}" stroke="#555"/>`,
      `<text x="${sx(s)}" y="${top + plotH + 16}" font-size="10" text-anchor="middle">${s}</text>`,
    );
  }
  parts.push(
    `<line x1="${sx(0)}" y1="${top + plotH}" x2="${sx(seconds)}" y2="${top + plotH}" stroke="#555"/>`,
    `<line x1="${sx(0)}" y1="${top}" x2="${sx(0)}" y2="${top + plotH}" stroke="#555"/>`,
    `<line x1="${sx(0)}" y1="${sy(limit)}" x2="${sx(seconds)}" y2="${sy(limit)}" stroke="#555" stroke-dasharray="5 4"/>`,
    `<text x="${sx(seconds) - 2}" y="${sy(limit) - 4}" font-size="10" text-anchor="end">limit</text>`,
    `<text x="${x0 + left + plotW / 2}" y="${height - 4}" font-size="11" text-anchor="middle">seconds of load (400 requests/s)</text>`,
    `<text x="${x0 + 12}" y="${top + plotH / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 ${x0 + 12} ${top + plotH / 2})">cgroup usage, MiB</text>`,
  );
  for (const run of runs) {
    const style = GUARD_STYLE[run.guard] ?? { color: '#000', label: run.guard };
    // After a death the cgroup empties: the line ends where the service did.
    const usage = run.usage.filter(([s]) => run.end === 'alive' || s <= run.endedAtMs / 1000);
    if (usage.length === 0) continue;
    const points = usage.map(([s, mib]) => `${sx(s).toFixed(1)},${sy(mib).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${style.color}" stroke-width="1.6" points="${points}"/>`);
    if (run.end !== 'alive') {
      const [s, mib] = usage[usage.length - 1];
      const cx = sx(s);
      const cy = sy(mib);
      parts.push(
        `<path d="M${cx - 5},${cy - 5}L${cx + 5},${cy + 5}M${cx - 5},${cy + 5}L${cx + 5},${cy - 5}" stroke="${style.color}" stroke-width="2.2"/>`,
        `<text x="${cx + 9}" y="${cy + 16}" font-size="11" fill="${style.color}">${escapeXml(`${run.end} at ${(run.endedAtMs / 1000).toFixed(1)} s`)}</text>`,
      );
    }
  }
  return parts.join('\n');
}

/** The whole SVG for `runs` (all of one load length). */
function renderSurvivalSvg(runs) {
  const seconds = Math.max(...runs.map((run) => run.seconds));
  const cells = [];
  for (const run of runs) {
    const key = `${run.payload} ${run.limitMiB}`;
    let cell = cells.find((c) => c.key === key);
    if (!cell) cells.push((cell = { key, runs: [] }));
    cell.runs.push(run);
  }
  const legendH = 26;
  const width = PANEL.width * cells.length;
  const height = PANEL.height + legendH;
  const guards = [...new Set(runs.map((run) => run.guard))];
  const legend = guards
    .map((guard, i) => {
      const style = GUARD_STYLE[guard] ?? { color: '#000', label: guard };
      const x = PANEL.left + i * 230;
      return (
        `<line x1="${x}" y1="${PANEL.height + 12}" x2="${x + 22}" y2="${PANEL.height + 12}" stroke="${style.color}" stroke-width="2.5"/>` +
        `<text x="${x + 28}" y="${PANEL.height + 16}" font-size="11">${escapeXml(style.label)}</text>`
      );
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...cells.map((cell, i) => panel(cell.runs, i * PANEL.width, seconds)),
    legend,
    '</svg>',
    '',
  ].join('\n');
}

const LEAD_STYLE = {
  memshed: { color: '#2e7d32', label: "memshed's level (default policy)" },
  kernel: { color: '#6a1b9a', label: 'kernel vmpressure events (cgroup v1)' },
  psi: { color: '#1565c0', label: 'PSI trigger (/proc/pressure/memory)' },
};
const SERVED_STYLE = {
  memshed: { color: '#2e7d32', label: 'served, with memshed' },
  none: { color: '#c62828', label: 'served, without memshed' },
};
const GROWTH_PANEL = { width: 300, height: 200, left: 48, right: 10, top: 30, bottom: 34 };
/** Lead times from 10 ms to 100 s, on a log axis; a missing one (no warning) sits below it. */
const LEAD_MIN_S = 0.01;
const LEAD_MAX_S = 100;

/** Markers of one series at the categories' x, joined where consecutive points exist. */
function series(points, color, dashed) {
  const parts = [];
  let run = [];
  const flush = () => {
    if (run.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.6"${dashed ? ' stroke-dasharray="4 3"' : ''} points="${run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    run = [];
  };
  for (const point of points) {
    if (point === undefined) {
      flush();
      continue;
    }
    const [x, y, missing] = point;
    if (missing) {
      flush();
      parts.push(
        `<path d="M${x - 4},${y - 4}L${x + 4},${y + 4}M${x - 4},${y + 4}L${x + 4},${y - 4}" stroke="${color}" stroke-width="1.8"/>`,
      );
      continue;
    }
    run.push([x, y]);
    parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`);
  }
  flush();
  return parts.join('\n');
}

/** One column (a payload and limit): lead time above, % served below, against the growth. */
function growthColumn(results, x0, growths) {
  const { width, height, left, right, top, bottom } = GROWTH_PANEL;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const sx = (i) => x0 + left + ((i + 0.5) / growths.length) * plotW;
  const parts = [];
  const first = results[0];
  parts.push(
    `<text x="${x0 + left}" y="${top - 12}" font-size="12" font-weight="bold">${escapeXml(`${PAYLOAD_LABEL[first.payload] ?? first.payload}, ${first.limitMiB}M`)}</text>`,
  );
  const byGrowth = growths.map((g) => results.find((r) => r.growth === g.name));
  // Lead time panel.
  const lead = (s) =>
    top +
    plotH -
    ((Math.log10(Math.max(s, LEAD_MIN_S)) - Math.log10(LEAD_MIN_S)) /
      (Math.log10(LEAD_MAX_S) - Math.log10(LEAD_MIN_S))) *
      plotH;
  for (const s of [0.01, 0.1, 1, 10, 100]) {
    parts.push(
      `<line x1="${x0 + left}" y1="${lead(s)}" x2="${x0 + left + plotW}" y2="${lead(s)}" stroke="#e0e0e0"/>`,
      `<text x="${x0 + left - 5}" y="${lead(s) + 4}" font-size="10" text-anchor="end">${s < 1 ? `${s * 1000} ms` : `${s} s`}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + left - 5}" y="${top + plotH + 12}" font-size="9" text-anchor="end">none</text>`,
    `<text x="${x0 + 11}" y="${top + plotH / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 ${x0 + 11} ${top + plotH / 2})">warning lead time</text>`,
  );
  for (const [key, style] of Object.entries(LEAD_STYLE)) {
    const points = byGrowth.map((r, i) => {
      if (!r || r.limitHitMs === undefined) return undefined;
      const ms = r.leadMs[key];
      return ms === undefined ? [sx(i), top + plotH + 8, true] : [sx(i), lead(ms / 1000)];
    });
    parts.push(series(points, style.color, false));
  }
  // % served panel, below.
  const y1 = top + plotH + bottom + top;
  const served = (rate) => y1 + plotH - rate * plotH;
  for (const pct of [0, 50, 100]) {
    parts.push(
      `<line x1="${x0 + left}" y1="${served(pct / 100)}" x2="${x0 + left + plotW}" y2="${served(pct / 100)}" stroke="#e0e0e0"/>`,
      `<text x="${x0 + left - 5}" y="${served(pct / 100) + 4}" font-size="10" text-anchor="end">${pct} %</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + 11}" y="${y1 + plotH / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 ${x0 + 11} ${y1 + plotH / 2})">requests served</text>`,
  );
  parts.push(
    series(
      byGrowth.map((r, i) => (r ? [sx(i), served(r.memshed.successRate)] : undefined)),
      SERVED_STYLE.memshed.color,
      false,
    ),
    series(
      byGrowth.map((r, i) => (r ? [sx(i), served(r.noneServedRate)] : undefined)),
      SERVED_STYLE.none.color,
      true,
    ),
  );
  // Growth axis labels under each panel.
  growths.forEach((g, i) => {
    for (const y of [top + plotH + 22, y1 + plotH + 14])
      parts.push(
        `<text x="${sx(i)}" y="${y}" font-size="9" text-anchor="middle">${escapeXml(g.name)}</text>`,
      );
  });
  parts.push(
    `<text x="${x0 + left + plotW / 2}" y="${y1 + plotH + 28}" font-size="10" text-anchor="middle">growth, MiB/s (400 requests/s)</text>`,
  );
  return parts.join('\n');
}

/**
 * The plot of test/bench/growth.js `--plot FILE`: per payload and limit, the warning lead time
 * (first medium-or-critical event before the limit is hit; log scale, a cross: no warning) of
 * memshed, the kernel's vmpressure events and PSI, and the share of requests served with and
 * without memshed, against the growth rate (bursts last).
 */
function renderGrowthSvg(results) {
  const growths = [];
  for (const r of results) if (!growths.some((g) => g.name === r.growth)) growths.push({ name: r.growth });
  const cells = [];
  for (const r of results) {
    const key = `${r.payload} ${r.limitMiB}`;
    let c = cells.find((cell) => cell.key === key);
    if (!c) cells.push((c = { key, results: [] }));
    c.results.push(r);
  }
  const panelsH = 2 * GROWTH_PANEL.height;
  const legendH = 40;
  const width = Math.max(GROWTH_PANEL.width * cells.length, 700);
  const height = panelsH + legendH;
  const legendItems = [...Object.values(LEAD_STYLE), ...Object.values(SERVED_STYLE)];
  const legend = legendItems
    .map((style, i) => {
      const x = GROWTH_PANEL.left + (i % 3) * 240;
      const y = panelsH + 10 + Math.floor(i / 3) * 16;
      return (
        `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${style.color}" stroke-width="2.5"${style === SERVED_STYLE.none ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${x + 26}" y="${y + 4}" font-size="11">${escapeXml(style.label)}</text>`
      );
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...cells.map((c, i) => growthColumn(c.results, i * GROWTH_PANEL.width, growths)),
    legend,
    '</svg>',
    '',
  ].join('\n');
}

module.exports = { renderSurvivalSvg, renderGrowthSvg };
