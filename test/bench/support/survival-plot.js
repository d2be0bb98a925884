// The plot of test/bench/survival.js `--plot FILE`: the cgroup's memory usage over each run, one
// panel per payload and limit, one line per guard, the limit dashed, a cross where a service died.
// Plain SVG (no dependency): README's "Why memshed" shows docs/images/survival-256m.svg.
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

module.exports = { renderSurvivalSvg };
