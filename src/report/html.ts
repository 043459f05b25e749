// report.html: one self-contained file (inline CSS and SVG, no scripts, no external assets):
// summary, results table, latency-over-time and requests charts per scenario from the
// per-second buckets, a percentile chart, the metrics table, per drill the client's latency and
// errors over its faults with its timeline (per storm discipline the answers per second), and
// the thresholds. Each section is one function; renderHtml lists them.
import { statusOfVerdict } from '../score/status.ts';
import { drillStatus, figureTables, metricCells, METRICS_HEADER, RESULTS_HEADER, resultRows, thresholdStatus } from './cells.ts';
import { drillErrorChart, drillLatencyChart, latencyChart, percentileChart, stormChart, throughputChart, timelineChart } from './charts.ts';
import { drillOnly } from './drill-series.ts';
import { formatPct, formatValue, roundLongNumbers } from './format.ts';
import { renderAutoscaleHtml } from './autoscale-html.ts';
import { BASELINE_HEADER, baselineHeadline, baselineRows, evidenceLines, regressionCount } from './baseline-cells.ts';
import { renderRunnersHtml } from './runners.ts';
import { renderCanaryHtml } from './canary-html.ts';
import { PROBE_HEADER, probeNotes, probeRows } from './probes.ts';
import type { Results, ThresholdRecord } from './results.ts';
import { esc } from './svg.ts';
import { eventsSection } from './events-html.ts';
import type { EventLine } from '../events/ndjson.ts';
import { redact } from '../util/redact.ts';

function statusClass(s: string): string {
  const v = s.toLowerCase();
  if (v.startsWith('pass')) return 'pass';
  if (v.startsWith('fail')) return 'fail';
  if (v.startsWith('not run')) return 'muted';
  if (v.startsWith('inconclusive')) return 'inconclusive';
  return 'nodata';
}

interface Col {
  title: string;
  /** A CSS width (the table is laid out fixed, so long cells wrap instead of widening the page). */
  width?: string;
  code?: boolean;
  status?: boolean;
}

function table(cols: Col[], rows: string[][], cls = ''): string {
  const fixed = cols.some((c) => c.width !== undefined);
  const colgroup = fixed ? `<colgroup>${cols.map((c) => `<col${c.width ? ` style="width:${c.width}"` : ''}>`).join('')}</colgroup>` : '';
  const th = cols.map((c) => `<th>${esc(c.title)}</th>`).join('');
  const td = (c: Col | undefined, v: string) => `<td${c?.status ? ` class="${statusClass(v)}"` : ''}>${c?.code ? `<code>${esc(v)}</code>` : esc(v)}</td>`;
  const trs = rows.map((r) => `<tr>${r.map((v, i) => td(cols[i], v)).join('')}</tr>`).join('\n');
  return `<table${cls || fixed ? ` class="${[cls, fixed ? 'fixed' : ''].filter(Boolean).join(' ')}"` : ''}>${colgroup}<thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

const cols = (titles: readonly string[], status: number): Col[] => titles.map((t, i) => ({ title: t, ...(i === status ? { status: true } : {}) }));

const CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#1a202c;max-width:1000px;margin:24px auto;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e2e8f0}h3{font-size:15px}
table{border-collapse:collapse;width:100%;margin:8px 0}table.fixed{table-layout:fixed}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f7fafc}.pass{color:#22543d;background:#f0fff4}.fail{color:#742a2a;background:#fff5f5}.nodata{color:#744210;background:#fffff0}.inconclusive{color:#553c9a;background:#faf5ff}.muted{color:#718096}td.pass,td.fail,td.nodata,td.inconclusive,td.muted{overflow-wrap:normal}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600}code{font-size:12px;overflow-wrap:anywhere;white-space:pre-wrap}
svg{display:block;margin:4px 0 12px}.figures{font-size:13px}.figure-tables{display:flex;gap:16px;align-items:flex-start}.figure-tables table{width:auto;flex:1 1 0}`;

// ── sections ──────────────────────────────────────────────────────────────────

export function summarySection(r: Results): string {
  const word = statusOfVerdict(r.verdict);
  const parts = [
    `<h1>ClawStorm results — ${esc(r.runId)}</h1>`,
    `<p><span class="verdict ${statusClass(word)}">${esc(word)}</span> exit code ${r.exitCode}${r.aborted ? ' · <strong>ABORTED</strong> (partial results)' : ''}<br>` +
      `Target ${esc(r.target)} · profile ${esc(r.profile)} · ${esc(r.startedAt)} → ${esc(r.endedAt)}<br>` +
      `Load generator: ${r.generator.saturated ? `<strong>saturated</strong> — ${esc(r.generator.reasons.join('; '))}` : 'healthy'}</p>`,
  ];
  if (r.abortReason) parts.push(`<p>Abort reason: ${esc(r.abortReason)}</p>`);
  if (r.reasons.length > 0) parts.push(`<ul>${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

/** The template table and the latency charts; a drill or storm run has neither. */
export function resultsSection(r: Results): string {
  if (drillOnly(r)) return '';
  return ['<h2>Load test results</h2>', table(cols(RESULTS_HEADER, 5), resultRows(r)), '<h2>Latency by percentile</h2>', percentileChart(r.scenarios)].join('\n');
}

export function scenarioChartsSection(r: Results): string {
  const parts: string[] = [];
  for (const s of r.scenarios.filter((x) => x.status !== 'Not run')) {
    parts.push(`<h3>${esc(s.title)}</h3>`);
    parts.push(`<p class="muted">${s.requests} requests · ${s.errors} errors (${esc(formatPct(s.errorRate))} of ${esc(s.errorRateOf)}) · ${s.dropped} dropped starts</p>`);
    parts.push(latencyChart(s), throughputChart(s));
  }
  return parts.join('\n');
}

export function baselineSection(r: Results): string {
  const b = r.baseline;
  if (b === undefined) return '';
  const parts = ['<h2>Baseline comparison</h2>', `<p>${esc(baselineHeadline(b))}</p>`];
  if (b.runId === null) return parts.join('\n');
  const word = statusOfVerdict(b.verdict);
  const n = regressionCount(b);
  parts.push(`<p>Verdict against the baseline: <span class="verdict ${statusClass(word)}">${esc(word)}</span>${n > 0 ? ` — ${n} regression(s)` : ''}</p>`);
  parts.push(table(cols(BASELINE_HEADER, BASELINE_HEADER.length - 1), baselineRows(b)));
  const ev = evidenceLines(b);
  if (ev.length > 0) parts.push(`<ul class="figures">${ev.map((e) => `<li>${esc(roundLongNumbers(e))}</li>`).join('')}</ul>`);
  return parts.join('\n');
}

export function metricsSection(r: Results): string {
  if (r.metrics.length === 0) return '';
  return ['<h2>Metrics to monitor</h2>', table(cols(METRICS_HEADER, 5), r.metrics.map(metricCells))].join('\n');
}

type DrillRecord = Results['drills'][number];

function drillBlock(d: DrillRecord): string {
  const status = drillStatus(d);
  const parts = [`<h3>${esc(d.title)} — <span class="${statusClass(status)}">${esc(status)}</span></h3>`];
  const disciplines = Object.entries(d.disciplines).filter(([, s]) => s.length > 0);
  if (d.series.length > 0) parts.push(drillLatencyChart(d), drillErrorChart(d));
  else if (disciplines.length === 0) parts.push('<p class="muted">No per-second series was recorded for this run.</p>');
  for (const [name, seconds] of disciplines) parts.push(`<h4>${esc(name)}: answers per second</h4>`, stormChart(d, name, seconds));
  parts.push(timelineChart(d));
  const f = figureTables(d);
  if (f.options.length > 0) parts.push(`<p class="figures">Options: ${esc(f.options.join(', '))}</p>`);
  // Figures side by side: the pivot (a column per discipline) beside the plain ones.
  const tables = [f.pivot ? table(f.pivot.header.map((t) => ({ title: t })), f.pivot.rows, 'figures') : '', f.plain.length > 0 ? table([{ title: 'Figure' }, { title: 'Value' }], f.plain, 'figures') : ''].filter((t) => t !== '');
  if (tables.length > 0) parts.push(`<div class="figure-tables">${tables.join('')}</div>`);
  if (f.noData.length > 0) parts.push(`<p class="figures muted">No data: ${esc(f.noData.join('; '))}</p>`);
  return parts.join('\n');
}

export function probesSection(r: Results): string {
  if (r.probes === undefined) return '';
  return ['<h2>Gateway probes</h2>', table(PROBE_HEADER.map((title) => ({ title })), probeRows(r.probes)), ...probeNotes(r.probes).map((n) => `<p class="figures">${esc(n)}</p>`)].join('\n');
}

export function drillsSection(r: Results): string {
  if (r.drills.length === 0) return '';
  return ['<h2>Drills</h2>', ...r.drills.map(drillBlock)].join('\n');
}

function thresholdRows(scope: string, ts: ThresholdRecord[], ran: boolean): string[][] {
  return ts.map((t) => [scope, t.name, t.expr, t.observed === null ? '--' : formatValue(t.observed, t.unit), thresholdStatus(t, ran), roundLongNumbers(t.detail)]);
}

const THRESHOLD_COLS: Col[] = [
  { title: 'Scope', width: '11%' },
  { title: 'Threshold', width: '17%' },
  { title: 'Condition', width: '24%', code: true },
  { title: 'Observed', width: '10%' },
  { title: 'Verdict', width: '12%', status: true },
  { title: 'Detail', width: '26%' },
];

export function thresholdsSection(r: Results): string {
  const rows = [
    ...r.scenarios.flatMap((s) => thresholdRows(s.title, s.thresholds, s.status !== 'Not run')),
    ...r.drills.flatMap((d) => thresholdRows(d.title, d.thresholds, d.status !== 'Not run')),
    ...thresholdRows('run', r.thresholds, true),
  ];
  return ['<h2>Thresholds</h2>', rows.length ? table(THRESHOLD_COLS, rows, 'thresholds') : '<p class="muted">No thresholds were evaluated.</p>'].join('\n');
}

/** report.html; `events` are the lines of the run's events.ndjson, when it is at hand. */
export function renderHtml(results: Results, events?: readonly EventLine[]): string {
  const r = results;
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(`ClawStorm ${r.runId}`)}</title><style>${CSS}</style></head><body>`,
    summarySection(r),
    resultsSection(r),
    scenarioChartsSection(r),
    baselineSection(r),
    metricsSection(r),
    probesSection(r),
    drillsSection(r),
    r.autoscale ? renderAutoscaleHtml(r.autoscale).join('\n') : '',
    eventsSection(r, events),
    r.runners ? renderRunnersHtml(r.runners) : '',
    r.canary ? renderCanaryHtml(r.canary).join('\n') : '',
    thresholdsSection(r),
    '</body></html>\n',
  ];
  return redact(parts.filter((p) => p !== '').join('\n'));
}
