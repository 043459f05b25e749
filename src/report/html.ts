// report.html: one self-contained file (inline CSS and SVG, no scripts, no external assets):
// summary, results table, latency-over-time and requests charts per scenario from the
// per-second buckets, a percentile chart, the metrics table, drill timelines, thresholds.
import { renderAutoscaleHtml } from './autoscale-html.ts';
import { formatAlert, formatCondition, formatMs, formatPct, formatValue, verdictLabel } from './format.ts';
import { metricObserved, metricStatus, scenarioCells } from './markdown.ts';
import { TEMPLATE_SCENARIOS, type Results, type ScenarioResult, type ThresholdRecord } from './results.ts';
import { redact } from '../util/redact.ts';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const COLORS = { p50: '#2b6cb0', p95: '#dd6b20', p99: '#c53030', req: '#a0aec0', err: '#c53030' };
const PALETTE = ['#2b6cb0', '#dd6b20', '#2f855a', '#6b46c1', '#c53030', '#b7791f', '#319795'];
const W = 760;
const H = 240;
const M = { l: 64, r: 16, t: 16, b: 36 };

/** Round-number axis ticks covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

const f1 = (n: number) => n.toFixed(1);

function frame(yTicks: number[], yLabel: (v: number) => string, xTicks: { v: number; label: string }[], x: (v: number) => number, y: (v: number) => number, title: string): string {
  const parts = [`<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#cbd5e0"/>`];
  for (const t of yTicks) {
    parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${f1(y(t))}" y2="${f1(y(t))}" stroke="#edf2f7"/>`);
    parts.push(`<text x="${M.l - 6}" y="${f1(y(t) + 4)}" text-anchor="end">${esc(yLabel(t))}</text>`);
  }
  for (const t of xTicks) parts.push(`<text x="${f1(x(t.v))}" y="${H - M.b + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  parts.push(`<title>${esc(title)}</title>`);
  return parts.join('');
}

function svg(body: string, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(label)}" font-family="system-ui,sans-serif" font-size="11" fill="#2d3748">${body}</svg>`;
}

function timeTicks(span: number): { v: number; label: string }[] {
  return niceTicks(Math.max(1, span), 6).map((v) => ({ v, label: v >= 120 ? `${f1(v / 60)}m` : `${v}s` }));
}

/** Polyline segments, broken where a second had no completed request. */
function lines(points: { x: number; y: number | null }[], color: string, name: string): string {
  const segs: string[][] = [];
  let cur: string[] = [];
  for (const p of points) {
    if (p.y === null) {
      if (cur.length) segs.push(cur);
      cur = [];
    } else cur.push(`${f1(p.x)},${f1(p.y)}`);
  }
  if (cur.length) segs.push(cur);
  return segs
    .map((s) => (s.length === 1 ? `<circle cx="${s[0]!.split(',')[0]}" cy="${s[0]!.split(',')[1]}" r="1.5" fill="${color}"><title>${esc(name)}</title></circle>` : `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.join(' ')}"><title>${esc(name)}</title></polyline>`))
    .join('');
}

function legend(items: { color: string; label: string }[]): string {
  return items.map((it, i) => `<rect x="${M.l + 8 + i * 90}" y="${M.t + 6}" width="10" height="10" fill="${it.color}"/><text x="${M.l + 22 + i * 90}" y="${M.t + 15}">${esc(it.label)}</text>`).join('');
}

/** Latency over time (p50/p95/p99 per second). */
export function latencyChart(s: ScenarioResult): string {
  const series = s.series;
  if (series.length === 0) return '<p class="muted">No per-second data.</p>';
  const t0 = series[0]!.t;
  const span = series[series.length - 1]!.t - t0;
  const vals = series.flatMap((b) => [b.p50, b.p95, b.p99]).filter((v): v is number => v !== null && Number.isFinite(v));
  const yTicks = niceTicks(Math.max(1, ...vals));
  const yMax = yTicks[yTicks.length - 1]!;
  const xTicks = timeTicks(span);
  const xMax = xTicks[xTicks.length - 1]!.v;
  const x = (v: number) => M.l + (v / xMax) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (Math.min(v, yMax) / yMax) * (H - M.t - M.b);
  const line = (k: 'p50' | 'p95' | 'p99') => lines(series.map((b) => ({ x: x(b.t - t0), y: b[k] === null || !Number.isFinite(b[k]) ? null : y(b[k]) })), COLORS[k], `${s.title} ${k}`);
  const body =
    frame(yTicks, (v) => formatMs(v, { trim: true }), xTicks, x, y, `${s.title}: latency over time`) +
    line('p50') +
    line('p95') +
    line('p99') +
    legend([
      { color: COLORS.p50, label: 'P50' },
      { color: COLORS.p95, label: 'P95' },
      { color: COLORS.p99, label: 'P99' },
    ]);
  return svg(body, `${s.title}: latency over time`);
}

/** Requests and errors per second. */
export function throughputChart(s: ScenarioResult): string {
  const series = s.series;
  if (series.length === 0) return '';
  const t0 = series[0]!.t;
  const span = Math.max(1, series[series.length - 1]!.t - t0 + 1);
  const yTicks = niceTicks(Math.max(1, ...series.map((b) => b.count)));
  const yMax = yTicks[yTicks.length - 1]!;
  const xTicks = timeTicks(span);
  const xMax = Math.max(span, xTicks[xTicks.length - 1]!.v);
  const bw = Math.max(1, (W - M.l - M.r) / xMax);
  const x = (v: number) => M.l + (v / xMax) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (v / yMax) * (H - M.t - M.b);
  const bars = series
    .map((b) => {
      const ok = `<rect x="${f1(x(b.t - t0))}" y="${f1(y(b.count))}" width="${f1(bw)}" height="${f1(H - M.b - y(b.count))}" fill="${COLORS.req}"/>`;
      const err = b.errors > 0 ? `<rect x="${f1(x(b.t - t0))}" y="${f1(y(b.errors))}" width="${f1(bw)}" height="${f1(H - M.b - y(b.errors))}" fill="${COLORS.err}"/>` : '';
      return ok + err;
    })
    .join('');
  const body = frame(yTicks, (v) => `${v}/s`, xTicks, x, y, `${s.title}: requests per second`) + bars + legend([{ color: COLORS.req, label: 'requests/s' }, { color: COLORS.err, label: 'errors/s' }]);
  return svg(body, `${s.title}: requests and errors per second`);
}

/** HDR-style percentile chart: x = percentile on a log(1/(1−p)) axis, one line per scenario. */
export function percentileChart(scenarios: ScenarioResult[]): string {
  const curves = scenarios
    .filter((s) => s.status !== 'Not run')
    .map((s) => {
      const pts = s.percentiles && s.percentiles.length > 0 ? s.percentiles : [{ p: 50, ms: s.p50 }, { p: 95, ms: s.p95 }, { p: 99, ms: s.p99 }];
      return { title: s.title, pts: pts.filter((p): p is { p: number; ms: number } => p.ms !== null && Number.isFinite(p.ms) && p.p < 100).sort((a, b) => a.p - b.p) };
    })
    .filter((c) => c.pts.length > 0);
  if (curves.length === 0) return '<p class="muted">No latency percentiles.</p>';
  const lx = (p: number) => Math.log10(1 / (1 - p / 100));
  const maxP = Math.max(99.9, ...curves.flatMap((c) => c.pts.map((p) => p.p)));
  const xMax = lx(maxP);
  const yTicks = niceTicks(Math.max(1, ...curves.flatMap((c) => c.pts.map((p) => p.ms))));
  const yMax = yTicks[yTicks.length - 1]!;
  const x = (p: number) => M.l + (lx(p) / xMax) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (v / yMax) * (H - M.t - M.b);
  const xTicks = [0, 50, 90, 99, 99.9, 99.99].filter((p) => p <= maxP).map((p) => ({ v: p, label: `${p}%` }));
  let body = frame(yTicks, (v) => formatMs(v, { trim: true }), xTicks, x, y, 'latency by percentile');
  curves.forEach((c, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    body += lines(c.pts.map((p) => ({ x: x(p.p), y: y(p.ms) })), color, c.title);
    body += c.pts.map((p) => `<circle cx="${f1(x(p.p))}" cy="${f1(y(p.ms))}" r="2.5" fill="${color}"><title>${esc(`${c.title} p${p.p}: ${formatMs(p.ms)}`)}</title></circle>`).join('');
  });
  body += curves.map((c, i) => `<rect x="${M.l + 8}" y="${M.t + 6 + i * 14}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${M.l + 22}" y="${M.t + 15 + i * 14}">${esc(c.title)}</text>`).join('');
  return svg(body, 'latency by percentile');
}

/** A drill's events on one time axis. */
export function timelineChart(d: Results['drills'][number]): string {
  if (d.events.length === 0) return '<p class="muted">No events recorded.</p>';
  const events = [...d.events].sort((a, b) => a.t - b.t);
  const span = Math.max(1, events[events.length - 1]!.t);
  const h = 60 + events.length * 16;
  const x = (v: number) => M.l + (v / span) * (W - M.l - M.r - 160);
  const axis = 30;
  let body = `<line x1="${M.l}" x2="${f1(x(span))}" y1="${axis}" y2="${axis}" stroke="#4a5568"/>`;
  body += timeTicks(span)
    .filter((t) => t.v <= span)
    .map((t) => `<line x1="${f1(x(t.v))}" x2="${f1(x(t.v))}" y1="${axis - 4}" y2="${axis + 4}" stroke="#4a5568"/><text x="${f1(x(t.v))}" y="${axis - 8}" text-anchor="middle">${esc(t.label)}</text>`)
    .join('');
  events.forEach((e, i) => {
    const yy = axis + 20 + i * 16;
    const color = e.kind === 'fault' ? '#c53030' : e.kind === 'recover' ? '#2f855a' : '#2b6cb0';
    body += `<line x1="${f1(x(e.t))}" x2="${f1(x(e.t))}" y1="${axis}" y2="${yy - 4}" stroke="${color}" stroke-dasharray="2,2"/>`;
    body += `<circle cx="${f1(x(e.t))}" cy="${yy - 4}" r="3" fill="${color}"/><text x="${f1(x(e.t) + 6)}" y="${yy}">${esc(`${f1(e.t)}s ${e.label}`)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${esc(`${d.title} timeline`)}" font-family="system-ui,sans-serif" font-size="11" fill="#2d3748">${body}</svg>`;
}

function statusClass(s: string): string {
  const v = s.toLowerCase();
  if (v.startsWith('pass')) return 'pass';
  if (v.startsWith('fail')) return 'fail';
  if (v.startsWith('not run')) return 'muted';
  return 'nodata';
}

function table(header: string[], rows: string[][], statusCol?: number): string {
  const th = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${i === statusCol ? ` class="${statusClass(c)}"` : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function thresholdRows(scope: string, ts: ThresholdRecord[]): string[][] {
  return ts.map((t) => [scope, t.name, t.expr, t.observed === null ? '--' : formatValue(t.observed, t.unit), verdictLabel(t.verdict), t.detail]);
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#1a202c;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e2e8f0}h3{font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f7fafc}.pass{color:#22543d;background:#f0fff4}.fail{color:#742a2a;background:#fff5f5}.nodata{color:#744210;background:#fffff0}.muted{color:#718096}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600}code{font-size:12px}`;

export function renderHtml(results: Results): string {
  const r = results;
  const v = r.verdict === 'pass' ? 'pass' : r.verdict === 'fail' ? 'fail' : 'nodata';
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(`ClawStorm ${r.runId}`)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>ClawStorm results — ${esc(r.runId)}</h1>`);
  parts.push(
    `<p><span class="verdict ${v}">${esc(verdictLabel(r.verdict))}</span> exit code ${r.exitCode}${r.aborted ? ' · <strong>ABORTED</strong> (partial results)' : ''}<br>` +
      `Target ${esc(r.target)} · profile ${esc(r.profile)} · ${esc(r.startedAt)} → ${esc(r.endedAt)}<br>` +
      `Load generator: ${r.generator.saturated ? `<strong>saturated</strong> — ${esc(r.generator.reasons.join('; '))}` : 'healthy'}</p>`,
  );
  if (r.reasons.length > 0) parts.push(`<ul>${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);

  parts.push('<h2>Load test results</h2>');
  const rows = TEMPLATE_SCENARIOS.map((t) => scenarioCells(t.title, r.scenarios.find((s) => s.name === t.name || s.title.toLowerCase() === t.title.toLowerCase())));
  for (const s of r.scenarios) if (!TEMPLATE_SCENARIOS.some((t) => t.name === s.name || t.title.toLowerCase() === s.title.toLowerCase())) rows.push(scenarioCells(s.title, s));
  parts.push(table(['Scenario', 'P50', 'P95', 'P99', 'Error Rate', 'Status'], rows, 5));

  parts.push('<h2>Latency by percentile</h2>', percentileChart(r.scenarios));
  for (const s of r.scenarios.filter((x) => x.status !== 'Not run')) {
    parts.push(`<h3>${esc(s.title)}</h3>`);
    parts.push(`<p class="muted">${s.requests} requests · ${s.errors} errors (${esc(formatPct(s.errorRate))} of ${esc(s.errorRateOf)}) · ${s.dropped} dropped starts</p>`);
    parts.push(latencyChart(s), throughputChart(s));
  }

  if (r.metrics.length > 0) {
    parts.push('<h2>Metrics to monitor</h2>');
    parts.push(table(['Group', 'Metric', 'Target', 'Alert Threshold', 'Observed', 'Status'], r.metrics.map((m) => [m.group, m.metric, formatCondition(m.target.op, m.target.value, m.unit), formatAlert(m.alert, m.unit), metricObserved(m), metricStatus(m) + (m.gate ? '' : ' (not gating)')]), 5));
  }
  if (r.drills.length > 0) {
    parts.push('<h2>Drills</h2>');
    for (const d of r.drills) {
      const figs = Object.entries(d.figures).map(([k, val]) => `${k} ${String(val)}`).join(' · ');
      parts.push(`<h3>${esc(d.title)} — <span class="${statusClass(d.status)}">${esc(d.status)}</span></h3>`, figs ? `<p>${esc(figs)}</p>` : '', timelineChart(d));
    }
  }
  if (r.autoscale) parts.push(...renderAutoscaleHtml(r.autoscale));
  const trows = [...r.scenarios.flatMap((s) => thresholdRows(s.title, s.thresholds)), ...r.drills.flatMap((d) => thresholdRows(d.title, d.thresholds)), ...thresholdRows('run', r.thresholds)];
  parts.push('<h2>Thresholds</h2>', trows.length ? table(['Scope', 'Threshold', 'Condition', 'Observed', 'Verdict', 'Detail'], trows, 4) : '<p class="muted">No thresholds were evaluated.</p>');
  parts.push('</body></html>\n');
  return redact(parts.join('\n'));
}
