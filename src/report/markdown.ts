// results.md: the results template table of SPEC §6 (exact header and rows), the Metrics-to-
// monitor table of §3 with observed values, and every threshold with its verdict.
import { renderAutoscaleMarkdown } from './autoscale-markdown.ts';
import { formatAlert, formatCondition, formatMs, formatPct, formatValue, NONE, verdictLabel } from './format.ts';
import { TEMPLATE_SCENARIOS, type MetricRowRecord, type Results, type ScenarioResult, type ThresholdRecord } from './results.ts';
import { redact } from '../util/redact.ts';

export const RESULTS_HEADER = ['Scenario', 'P50', 'P95', 'P99', 'Error Rate', 'Status'] as const;
export const METRICS_HEADER = ['Group', 'Metric', 'Target', 'Alert Threshold', 'Observed', 'Status'] as const;

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

function findScenario(results: Pick<Results, 'scenarios'>, row: { name: string; title: string }): ScenarioResult | undefined {
  const t = row.title.toLowerCase();
  return results.scenarios.find((s) => s.name === row.name || s.title.toLowerCase() === t);
}

/** One template row; `--` and `Not run` when the scenario did not run. */
export function scenarioCells(title: string, s: ScenarioResult | undefined): string[] {
  if (s === undefined || s.status === 'Not run') return [title, NONE, NONE, NONE, NONE, 'Not run'];
  return [title, formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), formatPct(s.errorRate), s.status];
}

/**
 * The results table: the five template rows in template order, then any other scenario the run
 * had, in run order.
 */
export function renderResultsTable(results: Pick<Results, 'scenarios'>): string[] {
  const lines = [tableRow(RESULTS_HEADER), separatorRow(RESULTS_HEADER.length)];
  for (const row of TEMPLATE_SCENARIOS) lines.push(tableRow(scenarioCells(row.title, findScenario(results, row))));
  for (const s of results.scenarios) {
    if (TEMPLATE_SCENARIOS.some((r) => r.name === s.name || r.title.toLowerCase() === s.title.toLowerCase())) continue;
    lines.push(tableRow(scenarioCells(s.title, s)));
  }
  return lines;
}

export function metricStatus(m: Pick<MetricRowRecord, 'verdict'>): string {
  return m.verdict === 'pass' ? 'Pass' : m.verdict === 'fail' ? 'Fail' : 'No data';
}

export function metricObserved(m: Pick<MetricRowRecord, 'observed' | 'unit' | 'alerting'>): string {
  const v = formatValue(m.observed, m.unit);
  return m.alerting ? `${v} (alert fired)` : v;
}

export function renderMetricsTable(results: Pick<Results, 'metrics'>): string[] {
  const lines = [tableRow(METRICS_HEADER), separatorRow(METRICS_HEADER.length)];
  for (const m of results.metrics) {
    const status = metricStatus(m) + (m.gate ? '' : ' (not gating)');
    lines.push(tableRow([m.group, m.metric, formatCondition(m.target.op, m.target.value, m.unit), formatAlert(m.alert, m.unit), metricObserved(m), status]));
  }
  return lines;
}

function code(text: string): string {
  const t = text.replace(/\r?\n/g, ' ');
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``;
}

function thresholdLine(scope: string, t: ThresholdRecord, ran = true): string {
  const observed = t.observed === null ? 'no value' : formatValue(t.observed, t.unit);
  const label = ran ? verdictLabel(t.verdict) : 'NOT RUN';
  return `- **${label}** ${scope} · ${t.name}: ${code(t.expr)} — observed ${observed}. ${t.detail}`;
}

export function renderThresholdList(results: Pick<Results, 'scenarios' | 'thresholds' | 'drills'>): string[] {
  const lines: string[] = [];
  for (const s of results.scenarios) for (const t of s.thresholds) lines.push(thresholdLine(s.title, t, s.status !== 'Not run'));
  for (const d of results.drills) for (const t of d.thresholds) lines.push(thresholdLine(d.title, t, d.status !== 'Not run'));
  for (const t of results.thresholds) lines.push(thresholdLine('run', t));
  if (lines.length === 0) lines.push('- (no thresholds were evaluated)');
  return lines;
}

/** The whole results.md (redacted), `\n` line endings, ending in a newline. */
export function renderMarkdown(results: Results): string {
  const lines: string[] = [
    `# ClawStorm results — ${results.runId}`,
    '',
    `- Verdict: **${verdictLabel(results.verdict)}** (exit code ${results.exitCode})${results.aborted ? ' — **ABORTED**, partial results' : ''}`,
    `- Target: ${results.target} · profile: ${results.profile}`,
    `- Started ${results.startedAt} · ended ${results.endedAt}`,
    `- Load generator: ${results.generator.saturated ? `**saturated** — ${results.generator.reasons.join('; ')}` : 'healthy'}`,
  ];
  if (results.abortReason) lines.push(`- Abort reason: ${results.abortReason}`);
  for (const r of results.reasons) lines.push(`- ${r}`);
  lines.push('', '## Load test results', '', ...renderResultsTable(results), '');
  const bases = [...new Set(results.scenarios.map((s) => s.errorRateOf))];
  if (bases.length > 0) lines.push(`Latency percentiles are client-side; error rate is failed ${bases.join(' or ')} / all ${bases.join(' or ')}.`, '');
  const withExtra = results.scenarios.filter((s) => Object.keys(s.extra).length > 0 || s.dropped > 0);
  if (withExtra.length > 0) {
    lines.push('### Scenario figures', '');
    for (const s of withExtra) {
      const figures = [`requests ${s.requests}`, `errors ${s.errors}`, `dropped starts ${s.dropped}`, ...Object.entries(s.extra).map(([k, v]) => `${k} ${String(v)}`)];
      lines.push(`- ${s.title}: ${figures.join(', ')}`);
    }
    lines.push('');
  }
  lines.push('## Metrics to monitor', '');
  lines.push(...(results.metrics.length > 0 ? renderMetricsTable(results) : ['(no metric rows were scored)']), '');
  if (results.drills.length > 0) {
    lines.push('## Drills', '', ...renderDrills(results), '');
  }
  if (results.autoscale) lines.push('## Autoscaling', '', ...renderAutoscaleMarkdown(results.autoscale), '');
  lines.push('## Thresholds', '', ...renderThresholdList(results), '');
  return redact(lines.join('\n'));
}

type DrillRecord = Results['drills'][number];

/**
 * The drills and storms: one summary table (drill, status, thresholds), then per drill its
 * figures as a table. Figures named `<column>.<row>` (a storm's `capped.requests`,
 * `unbounded.requests`) are pivoted into one table with a column per prefix, so disciplines sit
 * side by side; `opt_*` figures are the drill's options, listed on one line.
 */
export function renderDrills(results: Pick<Results, 'drills'>): string[] {
  const lines = [tableRow(['Drill', 'Status', 'Thresholds passed', 'Failed', 'No data']), separatorRow(5)];
  for (const d of results.drills) {
    const n = (v: string) => String(d.thresholds.filter((t) => t.verdict === v).length);
    lines.push(tableRow([d.title, d.status, n('pass'), n('fail'), n('no_data')]));
  }
  for (const d of results.drills) lines.push('', `### ${d.title}`, '', ...drillFigures(d));
  return lines;
}

function figureCell(v: DrillRecord['figures'][string] | undefined): string {
  if (v === undefined || v === null) return NONE;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  return String(v);
}

function drillFigures(d: DrillRecord): string[] {
  const entries = Object.entries(d.figures);
  const options = entries.filter(([k]) => k.startsWith('opt_'));
  const plain = entries.filter(([k]) => !k.startsWith('opt_') && !k.includes('.'));
  const dotted = entries.filter(([k]) => !k.startsWith('opt_') && k.includes('.'));
  const out: string[] = [];
  if (options.length > 0) out.push(`Options: ${options.map(([k, v]) => `${k.slice(4)} ${figureCell(v)}`).join(', ')}`, '');
  if (dotted.length > 0) {
    const cols: string[] = [];
    const rows: string[] = [];
    for (const [k] of dotted) {
      const i = k.indexOf('.');
      const c = k.slice(0, i);
      const r = k.slice(i + 1);
      if (!cols.includes(c)) cols.push(c);
      if (!rows.includes(r)) rows.push(r);
    }
    out.push(tableRow(['Figure', ...cols]), separatorRow(cols.length + 1));
    for (const r of rows) out.push(tableRow([r, ...cols.map((c) => figureCell(d.figures[`${c}.${r}`]))]));
    out.push('');
  }
  if (plain.length > 0) {
    out.push(tableRow(['Figure', 'Value']), separatorRow(2));
    for (const [k, v] of plain) out.push(tableRow([k, figureCell(v)]));
    out.push('');
  }
  if (out.length === 0) out.push('(no figures)', '');
  if (out[out.length - 1] === '') out.pop();
  return out;
}
