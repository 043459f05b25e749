// results.md: the results template table of plan §6 (exact header and rows), the Metrics-to-
// monitor table of §3 with observed values, the drills and storms as a game day reads them
// (timeline, the client's latency and errors per fault window, a storm's answers per second),
// and every threshold with its verdict. Each section is one function; renderMarkdown lists them.
import { statusOfVerdict } from '../score/status.ts';
import { drillStatus, figureTables, metricCells, METRICS_HEADER, RESULTS_HEADER, resultRows, thresholdStatus } from './cells.ts';
import { binSeconds, binWidth, drillClock, drillOnly, windowStats, type DrillRecord } from './drill-series.ts';
import { figureText, formatMs, formatPct, formatValue } from './format.ts';
import { renderAutoscaleMarkdown } from './autoscale-markdown.ts';
import { BASELINE_HEADER, baselineHeadline, baselineRows, evidenceLines, regressionCount } from './baseline-cells.ts';
import { renderRunnersMarkdown } from './runners.ts';
import { renderCanaryMarkdown } from './canary-markdown.ts';
import { PROBE_HEADER, probeNotes, probeRows } from './probes.ts';
import type { Results, ThresholdRecord } from './results.ts';
import { redact } from '../util/redact.ts';

/** A table cell: pipes escaped, line breaks flattened. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();
}

export function tableRow(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

export function separatorRow(n: number): string {
  return `|${'---|'.repeat(n)}`;
}

/** The results table: the five template rows in template order, then any other scenario the run had. */
export function renderResultsTable(results: Pick<Results, 'scenarios'>): string[] {
  return [tableRow(RESULTS_HEADER), separatorRow(RESULTS_HEADER.length), ...resultRows(results).map(tableRow)];
}

export function renderMetricsTable(results: Pick<Results, 'metrics'>): string[] {
  return [tableRow(METRICS_HEADER), separatorRow(METRICS_HEADER.length), ...results.metrics.map((m) => tableRow(metricCells(m)))];
}

function code(text: string): string {
  const t = text.replace(/\r?\n/g, ' ');
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

function thresholdLine(scope: string, t: ThresholdRecord, ran = true): string {
  const observed = t.observed === null ? 'no value' : formatValue(t.observed, t.unit);
  return `- **${thresholdStatus(t, ran)}** ${scope} · ${t.name}: ${code(t.expr)} — observed ${observed}. ${t.detail}`;
}

export function renderThresholdList(results: Pick<Results, 'scenarios' | 'thresholds' | 'drills'>): string[] {
  const lines: string[] = [];
  for (const s of results.scenarios) for (const t of s.thresholds) lines.push(thresholdLine(s.title, t, s.status !== 'Not run'));
  for (const d of results.drills) for (const t of d.thresholds) lines.push(thresholdLine(d.title, t, d.status !== 'Not run'));
  for (const t of results.thresholds) lines.push(thresholdLine('run', t));
  if (lines.length === 0) lines.push('- (no thresholds were evaluated)');
  return lines;
}

// ── sections ──────────────────────────────────────────────────────────────────

export function summarySection(r: Results): string[] {
  const lines = [
    `# ClawStorm results — ${r.runId}`,
    '',
    `- Verdict: **${statusOfVerdict(r.verdict)}** (exit code ${r.exitCode})${r.aborted ? ' — **ABORTED**, partial results' : ''}`,
    `- Target: ${r.target} · profile: ${r.profile}`,
    `- Started ${r.startedAt} · ended ${r.endedAt}`,
    `- Load generator: ${r.generator.saturated ? `**saturated** — ${r.generator.reasons.join('; ')}` : 'healthy'}`,
  ];
  if (r.abortReason) lines.push(`- Abort reason: ${r.abortReason}`);
  for (const x of r.reasons) lines.push(`- ${x}`);
  lines.push('');
  return lines;
}

/** The template table; a drill or storm run has no scenario to put in it, so no table. */
export function resultsSection(r: Results): string[] {
  if (drillOnly(r)) return [];
  const lines = ['## Load test results', '', ...renderResultsTable(r), ''];
  const bases = [...new Set(r.scenarios.map((s) => s.errorRateOf))];
  if (bases.length > 0) {
    lines.push(
      `Latency percentiles are client-side (a cell marked "server (judged)" also shows the server-side figure its verdict was judged on); error rate is failed ${bases.join(' or ')} / all ${bases.join(' or ')}.`,
      '',
    );
  }
  return lines;
}

export function scenarioFiguresSection(r: Results): string[] {
  const withExtra = r.scenarios.filter((s) => Object.keys(s.extra).length > 0 || s.dropped > 0);
  if (withExtra.length === 0) return [];
  const lines = ['### Scenario figures', ''];
  for (const s of withExtra) {
    const figures = [`requests ${s.requests}`, `errors ${s.errors}`, `dropped starts ${s.dropped}`, ...Object.entries(s.extra).map(([k, v]) => `${k} ${figureText(v, s.noData[k])}`)];
    lines.push(`- ${s.title}: ${figures.join(', ')}`);
  }
  lines.push('');
  return lines;
}

export function metricsSection(r: Results): string[] {
  if (r.metrics.length === 0 && drillOnly(r)) return [];
  return ['## Metrics to monitor', '', ...(r.metrics.length > 0 ? renderMetricsTable(r) : ['(no metric rows were scored)']), ''];
}

export function probesSection(r: Results): string[] {
  if (r.probes === undefined) return [];
  return ['## Gateway probes', '', tableRow(PROBE_HEADER), separatorRow(PROBE_HEADER.length), ...probeRows(r.probes).map(tableRow), '', ...probeNotes(r.probes), ''];
}

export function drillsSection(r: Results): string[] {
  if (r.drills.length === 0) return [];
  return ['## Drills', '', ...renderDrills(r), ''];
}

/** The baseline comparison: what it was judged against, the table, the evidence of every metric that did not pass. */
export function baselineSection(r: Pick<Results, 'baseline'>): string[] {
  const b = r.baseline;
  if (b === undefined) return [];
  const lines = ['## Baseline comparison', '', baselineHeadline(b), ''];
  if (b.runId === null) return lines;
  const n = regressionCount(b);
  lines.push(`Verdict against the baseline: **${statusOfVerdict(b.verdict)}**${n > 0 ? ` — ${n} regression(s)` : ''}`, '');
  lines.push(tableRow(BASELINE_HEADER), separatorRow(BASELINE_HEADER.length), ...baselineRows(b).map(tableRow), '');
  const ev = evidenceLines(b);
  if (ev.length > 0) lines.push('Evidence:', '', ...ev.map((e) => `- ${e}`), '');
  return lines;
}

export function thresholdsSection(r: Results): string[] {
  return ['## Thresholds', '', ...renderThresholdList(r), ''];
}

/** The whole results.md (redacted), `\n` line endings, ending in a newline. */
export function renderMarkdown(results: Results): string {
  const lines = [
    ...summarySection(results),
    ...resultsSection(results),
    ...scenarioFiguresSection(results),
    ...baselineSection(results),
    ...metricsSection(results),
    ...probesSection(results),
    ...drillsSection(results),
    ...(results.autoscale ? ['## Autoscaling', '', ...renderAutoscaleMarkdown(results.autoscale), ''] : []),
    ...(results.runners ? ['## Runners', '', ...renderRunnersMarkdown(results.runners), ''] : []),
    ...(results.canary ? ['## Canary analysis', '', ...renderCanaryMarkdown(results.canary), ''] : []),
    ...thresholdsSection(results),
  ];
  return redact(lines.join('\n'));
}

// ── drills and storms ─────────────────────────────────────────────────────────

/**
 * The drills and storms: one summary table, then per drill its timeline, the client's latency
 * and errors per fault window, a storm's answers per second per discipline, and its figures.
 * Figures named `<column>.<row>` (a storm's `capped.requests`, `unbounded.requests`) are pivoted
 * into one table with a column per prefix; `opt_*` figures are the drill's options, on one line.
 */
export function renderDrills(results: Pick<Results, 'drills'>): string[] {
  const lines = [tableRow(['Drill', 'Status', 'Thresholds passed', 'Failed', 'Inconclusive', 'No data']), separatorRow(6)];
  for (const d of results.drills) {
    const n = (v: string) => String(d.thresholds.filter((t) => t.verdict === v).length);
    lines.push(tableRow([d.title, drillStatus(d), n('pass'), n('fail'), n('inconclusive'), n('no_data')]));
  }
  for (const d of results.drills) {
    if (lines[lines.length - 1] !== '') lines.push('');
    lines.push(`### ${d.title}`, '', ...drillTimeline(d), ...drillClient(d), ...stormSeconds(d), ...drillFigures(d));
  }
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function drillTimeline(d: DrillRecord): string[] {
  if (d.events.length === 0) return [];
  const out = ['Timeline:', '', tableRow(['t', 'Event', 'Kind']), separatorRow(3)];
  for (const e of [...d.events].sort((a, b) => a.t - b.t)) out.push(tableRow([`${e.t.toFixed(1)} s`, e.label, e.kind ?? '']));
  return [...out, ''];
}

/** The client's latency and errors, before, during and after each fault. */
function drillClient(d: DrillRecord): string[] {
  const ws = windowStats(d);
  if (ws.length === 0) return [];
  const out = [
    'Client under the drill (worst one-second percentile in each window; error rate over the window):',
    '',
    tableRow(['Window', 'From', 'To', 'Requests', 'Error Rate', 'P50', 'P95', 'P99']),
    separatorRow(8),
  ];
  for (const w of ws) out.push(tableRow([w.label, `${w.from.toFixed(1)} s`, `${w.to.toFixed(1)} s`, String(w.requests), formatPct(w.errorRate), formatMs(w.worstP50), formatMs(w.worstP95), formatMs(w.worstP99)]));
  return [...out, ''];
}

/** A storm's answers per second (binned to fit a page), one column group per discipline. */
function stormSeconds(d: DrillRecord): string[] {
  const out: string[] = [];
  const clock = drillClock(d);
  for (const [discipline, seconds] of Object.entries(d.disciplines)) {
    if (seconds.length === 0) continue;
    const width = binWidth(seconds[seconds.length - 1]!.t - seconds[0]!.t);
    out.push(`${discipline}: answers per ${width === 1 ? 'second' : `${width} s`} (t from the storm's start):`, '', tableRow(['t', 'Requests', 'Accepted', '429', 'Lost']), separatorRow(5));
    for (const b of binSeconds(seconds, width)) out.push(tableRow([`${clock(b.t).toFixed(0)} s`, String(b.requests), String(b.accepted), String(b.status429), b.lost === null ? 'no data' : String(b.lost)]));
    out.push('');
  }
  return out;
}

function drillFigures(d: DrillRecord): string[] {
  const f = figureTables(d);
  const out: string[] = [];
  if (f.options.length > 0) out.push(`Options: ${f.options.join(', ')}`, '');
  if (f.pivot !== undefined) out.push(tableRow(f.pivot.header), separatorRow(f.pivot.header.length), ...f.pivot.rows.map(tableRow), '');
  if (f.plain.length > 0) out.push(tableRow(['Figure', 'Value']), separatorRow(2), ...f.plain.map(tableRow), '');
  if (f.noData.length > 0) out.push('No data:', ...f.noData.map((x) => `- ${x}`), '');
  if (out.length === 0) out.push('(no figures)', '');
  return out;
}
