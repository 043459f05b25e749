// The charts of report.html. Scenarios: latency over time, requests and errors per second, and
// latency by percentile. Drills and storms, on the drill's own clock (seconds since it started,
// the clock of its timeline) so the charts stacked under one drill share their x axis: the
// client's P50/P95/P99 and error rate per second with the fault windows shaded and the
// detection and recovery marks drawn across; a storm's accepted / 429 / lost per second per
// discipline; and the timeline, its labels laid out to stay inside the picture.
import { formatMs } from './format.ts';
import { drillClock, faultWindows, marks, ofDiscipline, type DrillRecord } from './drill-series.ts';
import type { ScenarioResult, StormSecond } from './results.ts';
import { CHAR_W, chart, esc, f1, MARGIN, niceTicks, polylines, rangeTicks, svgRoot, textWidth, timeLabel, W, type LegendItem, type Rect } from './svg.ts';

const COLORS = { p50: '#2b6cb0', p95: '#dd6b20', p99: '#c53030', req: '#a0aec0', err: '#c53030', fault: '#fed7d7', mark: '#2b6cb0', recover: '#2f855a', accepted: '#2f855a', s429: '#dd6b20', lost: '#c53030' };
const PALETTE = ['#2b6cb0', '#dd6b20', '#2f855a', '#6b46c1', '#c53030', '#b7791f', '#319795'];

function timeTicks(min: number, max: number): Array<{ v: number; label: string }> {
  return rangeTicks(min, Math.max(min + 1, max), 6).map((v) => ({ v, label: timeLabel(v) }));
}

const finite = (v: number | null): v is number => v !== null && Number.isFinite(v);

// ── scenarios ─────────────────────────────────────────────────────────────────

/** Latency over time (p50/p95/p99 per second). */
export function latencyChart(s: ScenarioResult): string {
  const series = s.series;
  if (series.length === 0) return '<p class="muted">No per-second data.</p>';
  const t0 = series[0]!.t;
  const xt = timeTicks(0, series[series.length - 1]!.t - t0);
  const yTicks = niceTicks(Math.max(1, ...series.flatMap((b) => [b.p50, b.p95, b.p99]).filter(finite)));
  return chart({
    label: `${s.title}: latency over time`,
    legend: (['p50', 'p95', 'p99'] as const).map((k) => ({ color: COLORS[k], label: k.toUpperCase() })),
    x: { min: 0, max: xt[xt.length - 1]!.v, ticks: xt },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => formatMs(v, { trim: true }) },
    draw: (x, y) => (['p50', 'p95', 'p99'] as const).map((k) => polylines(series.map((b) => ({ x: x(b.t - t0), y: finite(b[k]) ? y(b[k]) : null })), COLORS[k], `${s.title} ${k}`)).join(''),
  });
}

/** Requests and errors per second. */
export function throughputChart(s: ScenarioResult): string {
  const series = s.series;
  if (series.length === 0) return '';
  const t0 = series[0]!.t;
  const xt = timeTicks(0, series[series.length - 1]!.t - t0 + 1);
  const xMax = xt[xt.length - 1]!.v;
  const yTicks = niceTicks(Math.max(1, ...series.map((b) => b.count)));
  return chart({
    label: `${s.title}: requests and errors per second`,
    legend: [
      { color: COLORS.req, label: 'requests/s', shape: 'box' },
      { color: COLORS.err, label: 'errors/s', shape: 'box' },
    ],
    x: { min: 0, max: xMax, ticks: xt },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => `${v}/s` },
    draw: (x, y, plot) => {
      const bw = Math.max(1, plot.w / xMax);
      const bar = (t: number, v: number, color: string) => `<rect x="${f1(x(t))}" y="${f1(y(v))}" width="${f1(bw)}" height="${f1(plot.y + plot.h - y(v))}" fill="${color}"/>`;
      return series.map((b) => bar(b.t - t0, b.count, COLORS.req) + (b.errors > 0 ? bar(b.t - t0, b.errors, COLORS.err) : '')).join('');
    },
  });
}

/** HDR-style percentile chart: x = percentile on a log(1/(1−p)) axis, one line per scenario. */
export function percentileChart(scenarios: ScenarioResult[]): string {
  const curves = scenarios
    .filter((s) => s.status !== 'Not run')
    .map((s) => {
      const pts = s.percentiles && s.percentiles.length > 0 ? s.percentiles : [{ p: 50, ms: s.p50 }, { p: 95, ms: s.p95 }, { p: 99, ms: s.p99 }];
      return { title: s.title, pts: pts.filter((p): p is { p: number; ms: number } => finite(p.ms) && p.p < 100).sort((a, b) => a.p - b.p) };
    })
    .filter((c) => c.pts.length > 0);
  if (curves.length === 0) return '<p class="muted">No latency percentiles.</p>';
  const lx = (p: number) => Math.log10(1 / (1 - p / 100));
  const maxP = Math.max(99.9, ...curves.flatMap((c) => c.pts.map((p) => p.p)));
  const yTicks = niceTicks(Math.max(1, ...curves.flatMap((c) => c.pts.map((p) => p.ms))));
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  return chart({
    label: 'latency by percentile',
    legend: curves.map((c, i) => ({ color: color(i), label: c.title })),
    // The x scale is linear in log(1/(1−p)); ticks carry their percentile as label.
    x: { min: 0, max: lx(maxP), ticks: [0, 50, 90, 99, 99.9, 99.99].filter((p) => p <= maxP).map((p) => ({ v: lx(p), label: `${p}%` })) },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => formatMs(v, { trim: true }) },
    draw: (x, y) =>
      curves
        .map((c, i) => {
          const line = polylines(c.pts.map((p) => ({ x: x(lx(p.p)), y: y(p.ms) })), color(i), c.title);
          const dots = c.pts.map((p) => `<circle cx="${f1(x(lx(p.p)))}" cy="${f1(y(p.ms))}" r="2.5" fill="${color(i)}"><title>${esc(`${c.title} p${p.p}: ${formatMs(p.ms)}`)}</title></circle>`).join('');
          return line + dots;
        })
        .join(''),
  });
}

// ── drills and storms ─────────────────────────────────────────────────────────

/** The span of a drill on its own clock: its events and its client series. */
export function drillSpan(d: DrillRecord): number {
  const clock = drillClock(d);
  const lastEvent = d.events.reduce((m, e) => Math.max(m, e.t), 0);
  const lastSecond = d.series.length > 0 ? clock(d.series[d.series.length - 1]!.t) + 1 : 0;
  return Math.max(1, lastEvent, lastSecond);
}

const FAULT_LEGEND: LegendItem[] = [
  { color: COLORS.fault, label: 'fault window', shape: 'box' },
  { color: COLORS.mark, label: 'detected / measured', shape: 'dash' },
  { color: COLORS.recover, label: 'recovered', shape: 'dash' },
];

/** Shaded fault windows and vertical marks, in a plot's coordinates. */
function faultLayer(d: DrillRecord, x: (v: number) => number, plot: Rect, end: number, only?: (label: string) => boolean): string {
  const shade = faultWindows(d.events, end, only)
    .map((w) => `<rect class="fault" x="${f1(x(w.from))}" y="${plot.y}" width="${f1(Math.max(1, x(w.to) - x(w.from)))}" height="${plot.h}" fill="${COLORS.fault}" fill-opacity="0.7"><title>${esc(`${f1(w.from)}–${f1(w.to)} s: ${w.label}`)}</title></rect>`)
    .join('');
  const lines = marks(d.events, only)
    .map((e) => `<line class="mark" x1="${f1(x(e.t))}" x2="${f1(x(e.t))}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="${e.kind === 'recover' ? COLORS.recover : COLORS.mark}" stroke-width="1.2" stroke-dasharray="4,3"><title>${esc(`${f1(e.t)} s ${e.label}`)}</title></line>`)
    .join('');
  return shade + lines;
}

/** The client's P50/P95/P99 per second under the drill, faults shaded, marks across. */
export function drillLatencyChart(d: DrillRecord): string {
  if (d.series.length === 0) return '';
  const clock = drillClock(d);
  const span = drillSpan(d);
  const xt = timeTicks(0, span);
  const yTicks = niceTicks(Math.max(1, ...d.series.flatMap((b) => [b.p50, b.p95, b.p99]).filter(finite)));
  return chart({
    label: `${d.title}: client latency per second`,
    legend: [...(['p50', 'p95', 'p99'] as const).map((k) => ({ color: COLORS[k], label: `client ${k.toUpperCase()}` })), ...FAULT_LEGEND],
    x: { min: 0, max: xt[xt.length - 1]!.v, ticks: xt },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => formatMs(v, { trim: true }) },
    draw: (x, y, plot) => faultLayer(d, x, plot, span) + (['p50', 'p95', 'p99'] as const).map((k) => polylines(d.series.map((b) => ({ x: x(clock(b.t)), y: finite(b[k]) ? y(b[k]) : null })), COLORS[k], `client ${k}`)).join(''),
  });
}

/** The client's error rate per second under the drill (failed / all requests that second). */
export function drillErrorChart(d: DrillRecord): string {
  if (d.series.length === 0) return '';
  const clock = drillClock(d);
  const span = drillSpan(d);
  const xt = timeTicks(0, span);
  const xMax = xt[xt.length - 1]!.v;
  const rates = d.series.map((b) => ({ t: clock(b.t), rate: b.count > 0 ? b.errors / b.count : null, b }));
  const top = Math.max(0.01, ...rates.map((r) => r.rate ?? 0));
  const yTicks = niceTicks(top * 100).map((v) => v / 100);
  return chart({
    label: `${d.title}: client error rate per second`,
    legend: [{ color: COLORS.err, label: 'client error rate', shape: 'box' }, ...FAULT_LEGEND],
    plotH: 120,
    x: { min: 0, max: xMax, ticks: xt },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => `${Number((v * 100).toPrecision(6))}%` },
    draw: (x, y, plot) => {
      const bw = Math.max(1, plot.w / xMax);
      const bars = rates
        .filter((r) => r.rate !== null && r.rate > 0)
        .map((r) => `<rect x="${f1(x(r.t))}" y="${f1(y(r.rate!))}" width="${f1(bw)}" height="${f1(plot.y + plot.h - y(r.rate!))}" fill="${COLORS.err}"><title>${esc(`${f1(r.t)} s: ${r.b.errors} of ${r.b.count} failed`)}</title></rect>`)
        .join('');
      return faultLayer(d, x, plot, span) + bars;
    },
  });
}

/** Accepted / 429 / lost per second of one storm discipline, its fault shaded. */
export function stormChart(d: DrillRecord, discipline: string, seconds: readonly StormSecond[]): string {
  if (seconds.length === 0) return '';
  const clock = drillClock(d);
  const from = clock(seconds[0]!.t);
  const to = clock(seconds[seconds.length - 1]!.t) + 1;
  const xt = timeTicks(Math.floor(from), to);
  const yTicks = niceTicks(Math.max(1, ...seconds.flatMap((s) => [s.accepted, s.status429, s.lost ?? 0])));
  const only = ofDiscipline(discipline);
  const kinds = [
    { k: 'accepted', color: COLORS.accepted, label: 'accepted/s' },
    { k: 'status429', color: COLORS.s429, label: '429/s' },
    { k: 'lost', color: COLORS.lost, label: seconds.some((s) => s.lost === null) ? 'lost/s: no data (receiving side not read)' : 'lost/s (by second acknowledged)' },
  ] as const;
  return chart({
    label: `${d.title}: ${discipline} — answers per second`,
    legend: [...kinds.map((c) => ({ color: c.color, label: c.label })), ...FAULT_LEGEND],
    x: { min: xt[0]!.v, max: xt[xt.length - 1]!.v, ticks: xt },
    y: { max: yTicks[yTicks.length - 1]!, ticks: yTicks, label: (v) => `${v}/s` },
    draw: (x, y, plot) => faultLayer(d, x, plot, to, only) + kinds.map((c) => polylines(seconds.map((s) => { const v = s[c.k]; return { x: x(clock(s.t)), y: v === null ? null : y(v) }; }), c.color, `${discipline} ${c.label}`, 2)).join(''),
  });
}

/** Words into lines of at most `width` characters (a word longer than that is cut across lines). */
export function wrapText(text: string, width: number): string[] {
  const n = Math.max(8, Math.floor(width));
  const out: string[] = [];
  let cur = '';
  for (let word of text.split(/\s+/).filter((w) => w !== '')) {
    while (word.length > n) {
      if (cur !== '') {
        out.push(cur);
        cur = '';
      }
      out.push(word.slice(0, n));
      word = word.slice(n);
    }
    if (cur === '') cur = word;
    else if (cur.length + 1 + word.length <= n) cur += ` ${word}`;
    else {
      out.push(cur);
      cur = word;
    }
  }
  if (cur !== '') out.push(cur);
  return out.length > 0 ? out : [''];
}

/**
 * A drill's events on the drill's clock, one row each. A label goes right of its marker when it
 * fits, else left of it; a label that fits neither side is wrapped onto more lines on the wider
 * side, so no label is cut and the picture keeps the width of the charts above it (same x axis).
 */
export function timelineChart(d: DrillRecord): string {
  if (d.events.length === 0) return '<p class="muted">No events recorded.</p>';
  const events = [...d.events].sort((a, b) => a.t - b.t);
  const span = drillSpan(d);
  const xt = timeTicks(0, span);
  const xMax = xt[xt.length - 1]!.v;
  const plotW = W - MARGIN.l - MARGIN.r;
  const x = (v: number) => MARGIN.l + (v / xMax) * plotW;
  const axis = 22;
  const lineH = 13;
  let y = axis + 20;
  const rows = events.map((e) => {
    const label = `${f1(e.t)}s ${e.label}`;
    const cx = x(e.t);
    const roomRight = W - 4 - (cx + 6);
    const roomLeft = cx - 6 - 4;
    const tw = textWidth(label);
    const right = tw <= roomRight || (tw > roomLeft && roomRight >= roomLeft);
    const lines = wrapText(label, (right ? roomRight : roomLeft) / CHAR_W);
    const row = { e, lines, cx, anchor: right ? 'start' : 'end', tx: right ? cx + 6 : cx - 6, y };
    y += lines.length * lineH + 3;
    return row;
  });
  const h = y + 4;
  const color = (kind: string | undefined) => (kind === 'fault' ? '#c53030' : kind === 'recover' ? COLORS.recover : kind === 'error' ? '#9b2c2c' : kind === 'measure' ? COLORS.mark : '#718096');
  const plot: Rect = { x: MARGIN.l, y: axis, w: plotW, h: h - axis - 4 };
  let body = `<title>${esc(`${d.title} timeline`)}</title>`;
  body += faultWindows(d.events, span)
    .map((w) => `<rect class="fault" x="${f1(x(w.from))}" y="${plot.y}" width="${f1(Math.max(1, x(w.to) - x(w.from)))}" height="${plot.h}" fill="${COLORS.fault}" fill-opacity="0.5"/>`)
    .join('');
  body += `<line x1="${MARGIN.l}" x2="${f1(x(xMax))}" y1="${axis}" y2="${axis}" stroke="#4a5568"/>`;
  body += xt.map((t) => `<line x1="${f1(x(t.v))}" x2="${f1(x(t.v))}" y1="${axis - 4}" y2="${axis + 4}" stroke="#4a5568"/><text x="${f1(x(t.v))}" y="${axis - 8}" text-anchor="middle">${esc(t.label)}</text>`).join('');
  for (const r of rows) {
    const c = color(r.e.kind);
    body += `<line x1="${f1(r.cx)}" x2="${f1(r.cx)}" y1="${axis}" y2="${r.y - 4}" stroke="${c}" stroke-dasharray="2,2"/><circle cx="${f1(r.cx)}" cy="${r.y - 4}" r="3" fill="${c}"/>`;
    body += r.lines
      .map((l, k) => `<text class="tl-label" x="${f1(r.tx)}" y="${r.y + k * lineH}" text-anchor="${r.anchor}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(l)}</text>`)
      .join('');
  }
  return svgRoot(W, h, `${d.title} timeline`, body);
}
