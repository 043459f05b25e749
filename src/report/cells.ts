// The cells every format shows — results.md, report.html, the filled template and the console
// take their words and figures from here, so one verdict reads the same everywhere. Statuses
// are never re-derived here: the verdict was decided where it was measured (src/score/status.ts);
// these functions only put it into words.
import { statusOfVerdict, statusText, statusWithReasons } from '../score/status.ts';
import { figureText, formatAlert, formatCondition, formatPct, formatValue, NONE } from './format.ts';
import { latencyCell } from './judged.ts';
import { TEMPLATE_SCENARIOS, type MetricRowRecord, type Results, type ScenarioResult, type ThresholdRecord } from './results.ts';

export const RESULTS_HEADER = ['Scenario', 'P50', 'P95', 'P99', 'Error Rate', 'Status'] as const;
export const METRICS_HEADER = ['Group', 'Metric', 'Target', 'Alert Threshold', 'Observed', 'Status'] as const;

/** A scenario's status: `Not run` when it did not run; an inconclusive one with its reasons. */
export function scenarioStatus(s: Pick<ScenarioResult, 'status' | 'reasons'> | undefined): string {
  if (s === undefined || s.status === 'Not run') return 'Not run';
  return statusWithReasons(s.status, s.reasons);
}

/** One results-table row; `--` and `Not run` when the scenario did not run. */
export function scenarioCells(title: string, s: ScenarioResult | undefined): string[] {
  if (s === undefined || s.status === 'Not run') return [title, NONE, NONE, NONE, NONE, 'Not run'];
  return [title, latencyCell(s, s.p50, 50), latencyCell(s, s.p95, 95), latencyCell(s, s.p99, 99), formatPct(s.errorRate), scenarioStatus(s)];
}

function sameTitle(s: ScenarioResult, row: { name: string; title: string }): boolean {
  return s.name === row.name || s.title.toLowerCase() === row.title.toLowerCase();
}

/** The results table's rows: the five template rows in template order, then the run's other scenarios in run order. */
export function resultRows(results: Pick<Results, 'scenarios'>): string[][] {
  const rows = TEMPLATE_SCENARIOS.map((row) => scenarioCells(row.title, results.scenarios.find((s) => sameTitle(s, row))));
  for (const s of results.scenarios) if (!TEMPLATE_SCENARIOS.some((row) => sameTitle(s, row))) rows.push(scenarioCells(s.title, s));
  return rows;
}

/** A metric row's status (with "(not gating)" where it does not count toward the verdict). */
export function metricStatus(m: Pick<MetricRowRecord, 'verdict' | 'gate'>): string {
  return statusText(statusOfVerdict(m.verdict), m.gate);
}

export function metricObserved(m: Pick<MetricRowRecord, 'observed' | 'unit' | 'alerting'>): string {
  const v = formatValue(m.observed, m.unit);
  return m.alerting ? `${v} (alert fired)` : v;
}

export function metricCells(m: MetricRowRecord): string[] {
  return [m.group, m.metric, formatCondition(m.target.op, m.target.value, m.unit), formatAlert(m.alert, m.unit), metricObserved(m), metricStatus(m)];
}

/** A threshold's status: `Not run` when its scenario or drill did not run. */
export function thresholdStatus(t: Pick<ThresholdRecord, 'verdict'>, ran = true): string {
  return ran ? statusOfVerdict(t.verdict) : 'Not run';
}

/** A drill's or storm's status, an inconclusive one with its reasons. */
export function drillStatus(d: { status: ScenarioResult['status']; reasons?: readonly string[] | undefined }): string {
  return statusWithReasons(d.status, d.reasons);
}

type Figures = Results['drills'][number];

export interface FigureTables {
  /** `opt_*` figures: the drill's options, as `name value`. */
  options: string[];
  /** Figures named `<column>.<row>` (a storm's `capped.requests`) pivoted: a column per prefix. */
  pivot: { header: string[]; rows: string[][] } | undefined;
  /** Every other figure: name, value (or "no data (why)"). */
  plain: string[][];
  /** Why pivoted figures have no data. */
  noData: string[];
}

/** A drill's or storm's figures as tables, the same in results.md and report.html. */
export function figureTables(d: Pick<Figures, 'figures' | 'noData'>): FigureTables {
  const entries = Object.entries(d.figures);
  const cellOf = (v: Figures['figures'][string] | undefined) => (v === undefined ? NONE : figureText(v));
  const dotted = entries.filter(([k]) => !k.startsWith('opt_') && k.includes('.'));
  let pivot: FigureTables['pivot'];
  if (dotted.length > 0) {
    const cols: string[] = [];
    const rows: string[] = [];
    for (const [k] of dotted) {
      const i = k.indexOf('.');
      if (!cols.includes(k.slice(0, i))) cols.push(k.slice(0, i));
      if (!rows.includes(k.slice(i + 1))) rows.push(k.slice(i + 1));
    }
    pivot = { header: ['Figure', ...cols], rows: rows.map((r) => [r, ...cols.map((c) => cellOf(d.figures[`${c}.${r}`]))]) };
  }
  return {
    options: entries.filter(([k]) => k.startsWith('opt_')).map(([k, v]) => `${k.slice(4)} ${cellOf(v)}`),
    pivot,
    plain: entries.filter(([k]) => !k.startsWith('opt_') && !k.includes('.')).map(([k, v]) => [k, figureText(v, d.noData[k])]),
    noData: Object.entries(d.noData)
      .filter(([k]) => k.includes('.'))
      .map(([k, r]) => `${k}: ${r}`),
  };
}
