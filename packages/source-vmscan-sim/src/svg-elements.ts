// Hand-written SVG: the elements the plot draws with, and numbers and times as it prints them
// (two decimals at most, so that the same records give the same bytes).

/** Bytes in a MiB. */
export const MIB = 1024 * 1024;

/** The plot's colours: series, markers and text. */
export const COLORS = {
  usage: '#1e3a8a',
  limit: '#dc2626',
  anon: '#6366f1',
  file: '#38bdf8',
  swap: '#a855f7',
  grid: '#e5e7eb',
  axis: '#6b7280',
  text: '#111827',
  muted: '#6b7280',
  purge: '#0f766e',
  stop: '#7c3aed',
  oom: '#991b1b',
  phase: '#9ca3af',
};

/** A `<text>` element. */
export function text(
  x: number,
  y: number,
  content: string,
  style: {
    size?: number;
    weight?: number;
    fill?: string;
    anchor?: 'start' | 'middle' | 'end';
    rotate?: boolean;
  } = {},
): string {
  const attributes = [
    `x="${f(x)}"`,
    `y="${f(y)}"`,
    style.size ? `font-size="${style.size}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    `fill="${style.fill ?? COLORS.text}"`,
    style.anchor && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
    style.rotate ? `transform="rotate(-90 ${f(x)} ${f(y)})"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${content}</text>`;
}

/** A `<rect>` element. */
export function rect(
  x: number,
  y: number,
  w: number,
  h: number,
  fill: string,
  opacity = 1,
  stroke?: string,
): string {
  return `<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" fill="${fill}"${
    opacity !== 1 ? ` fill-opacity="${opacity}"` : ''
  }${stroke ? ` stroke="${stroke}"` : ''}/>`;
}

/** A `<line>` element. */
export function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke: string,
  width: number,
  dash?: string,
): string {
  return `<line x1="${f(x1)}" y1="${f(y1)}" x2="${f(x2)}" y2="${f(y2)}"${strokeAttributes(stroke, width)}${dashAttribute(dash)}/>`;
}

/** A `<polyline>` through the points. */
export function polyline(
  points: readonly (readonly [number, number])[],
  stroke: string,
  width: number,
  dash?: string,
) {
  const coordinates = points.map(([px, py]) => `${f(px)},${f(py)}`).join(' ');
  return `<polyline points="${coordinates}" fill="none"${strokeAttributes(stroke, width)} stroke-linejoin="round"${dashAttribute(dash)}/>`;
}

// Lines and polylines write their stroke the same way, so that the same style gives the same bytes.
function strokeAttributes(stroke: string, width: number): string {
  return ` stroke="${stroke}" stroke-width="${width}"`;
}

function dashAttribute(dash: string | undefined): string {
  return dash ? ` stroke-dasharray="${dash}"` : '';
}

/** A filled area under a series of points, down to `base`. */
export function area(
  points: readonly (readonly [number, number])[],
  base: number,
  fill: string,
  opacity: number,
): string {
  if (points.length === 0) return '';
  const path = [
    `M${f(points[0][0])} ${f(base)}`,
    ...points.map(([px, py]) => `L${f(px)} ${f(py)}`),
    `L${f(points[points.length - 1][0])} ${f(base)}Z`,
  ];
  return `<path d="${path.join('')}" fill="${fill}" fill-opacity="${opacity}"/>`;
}

/** A filled band between an upper and a lower series of points (stacked areas). */
export function band(
  upper: readonly (readonly [number, number])[],
  lower: readonly (readonly [number, number])[],
  fill: string,
  opacity: number,
): string {
  if (upper.length === 0) return '';
  const path = [
    ...upper.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${f(px)} ${f(py)}`),
    ...[...lower].reverse().map(([px, py]) => `L${f(px)} ${f(py)}`),
    'Z',
  ];
  return `<path d="${path.join('')}" fill="${fill}" fill-opacity="${opacity}"/>`;
}

/** Two decimals at most, no trailing zeros: deterministic and compact. */
export function f(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Text made safe for SVG and HTML. */
export function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Bytes as MiB, e.g. `23 MiB`. */
export function formatMiB(bytes: number): string {
  const mib = bytes / MIB;
  return `${mib >= 10 || Number.isInteger(mib) ? Math.round(mib) : mib.toFixed(1)} MiB`;
}

/** A number as the axes print it. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** `m:ss` for model milliseconds. */
export function formatTime(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** A round step for about `ticks` ticks up to `max`. */
export function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** `value` rounded up to a round number. */
export function niceCeiling(value: number): number {
  const step = niceStep(value, 6);
  return Math.max(step, Math.ceil(value / step) * step);
}

/** A round step of the time axis for a run of `duration` ms. */
export function niceTimeStep(duration: number): number {
  for (const step of [
    5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
  ]) {
    if (duration / step <= 12) return step;
  }
  return 3_600_000;
}
