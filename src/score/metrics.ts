// The Metrics-to-monitor rows of a target profile, judged over a run.
//
// Each row is two PromQL thresholds on the same query:
//   target — instant at the end of the run, over the whole run (`$__interval` = run duration);
//   alert  — per step over the run; fires when the alert condition holds for `for`
//            (consecutive windows covering it; default 1m, "sustained").
// The row fails when the target is missed or the alert fired; it is no data when the target
// query has nothing to say (an absent series is not a healthy one).
import type { MetricRow } from '../config/profile.ts';
import { parseDuration } from '../util/duration.ts';
import type { PromClient } from '../prom/client.ts';
import { evaluatePromThreshold, mapLimit, settle, type RunWindow } from './promql.ts';
import { negate, type ThresholdResult, type Verdict } from './types.ts';

export interface MetricRowResult {
  group: string;
  metric: string;
  query: string;
  unit: string;
  target: MetricRow['target'];
  alert: MetricRow['alert'];
  gate: boolean;
  observed: number | null;
  /** Whether the alert condition held for its `for` duration; null when it could not be judged. */
  alerting: boolean | null;
  verdict: Verdict;
  detail: string;
}

const DEFAULT_FOR_S = 60;

/** Alert windows: about six per `for`, never finer than the scrape interval nor coarser than 1 m. */
export function alertWindow(forSeconds: number, scrapeSeconds: number): { step: number; consecutive: number } {
  const step = Math.max(scrapeSeconds, Math.min(60, forSeconds / 6));
  return { step, consecutive: Math.max(1, Math.ceil(forSeconds / step)) };
}

export async function evaluateMetricRow(client: PromClient, row: MetricRow, w: RunWindow): Promise<MetricRowResult> {
  const scrape = w.scrapeIntervalSeconds ?? 15;
  const forS = row.alert.for !== undefined ? parseDuration(row.alert.for) / 1000 : DEFAULT_FOR_S;
  const base = { name: row.metric, query: row.query, unit: row.unit };
  const noBaseline: RunWindow = { ...w, baseline: undefined };
  const [target, alert] = await Promise.all([
    evaluatePromThreshold(client, { ...base, op: row.target.op, value: row.target.value, mode: 'instant' }, noBaseline),
    evaluatePromThreshold(client, { ...base, op: negate(row.alert.op), value: row.alert.value, mode: 'range', window: alertWindow(forS, scrape) }, noBaseline),
  ]);
  return combineRow(row, target, alert);
}

export function combineRow(row: MetricRow, target: ThresholdResult, alert: ThresholdResult): MetricRowResult {
  const alerting = alert.verdict === 'no_data' ? null : alert.verdict === 'fail';
  let verdict: Verdict;
  if (target.verdict === 'fail' || alerting === true) verdict = 'fail';
  else if (target.verdict === 'no_data' || target.verdict === 'inconclusive') verdict = target.verdict;
  else verdict = 'pass';
  const alertText = `alert ${row.alert.op} ${row.alert.value}${row.alert.for ? ` for ${row.alert.for}` : ' sustained'}`;
  const detail = `target ${row.target.op} ${row.target.value}: ${target.detail}; ${alertText}: ${alerting === null ? `not judged (${alert.detail})` : alerting ? `fired (${alert.detail})` : 'did not fire'}`;
  return {
    group: row.group,
    metric: row.metric,
    query: row.query,
    unit: row.unit,
    target: row.target,
    alert: row.alert,
    gate: row.gate,
    observed: target.observed,
    alerting,
    verdict,
    detail,
  };
}

export async function evaluateMetricRows(client: PromClient, rows: readonly MetricRow[], w: RunWindow): Promise<MetricRowResult[]> {
  // Settle once for all rows, then query a few rows at a time.
  if (w.settle !== false) await settle(w.end, w.scrapeIntervalSeconds ?? 15);
  return mapLimit([...rows], 4, (row) => evaluateMetricRow(client, row, { ...w, settle: false }));
}
