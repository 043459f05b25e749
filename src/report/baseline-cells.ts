// The baseline comparison in words and cells, shared by results.md, report.html, junit.xml and
// `clawstorm compare`: one metric's figures, its verdict and the evidence it rests on.
import { statusOfVerdict } from '../score/status.ts';
import type { BaselineMetric, BaselineSection } from './baseline-schema.ts';
import { formatMs, formatPct, NONE } from './format.ts';

export const BASELINE_HEADER = ['Scenario', 'Metric', 'Baseline', 'New', 'Change', 'Judge', 'Verdict'] as const;

const p3 = (x: number): string => String(Number(x.toPrecision(3)));
/** A p-value; one that underflowed to 0 is smaller than any double the test can resolve, not zero. */
const pText = (p: number): string => (p === 0 ? '< 1e-300' : `= ${p.toPrecision(3)}`);
const signedPct = (x: number | null): string => (x === null ? NONE : `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`);
const value = (m: BaselineMetric, v: number | null): string => (m.unit === 'ms' ? formatMs(v) : formatPct(v));

export function baselineRows(b: BaselineSection): string[][] {
  return b.scenarios.flatMap((s) => s.metrics.map((m) => [s.title, m.metric, value(m, m.baseline), value(m, m.next), signedPct(m.deltaPct), m.classification ?? NONE, statusOfVerdict(m.verdict)]));
}

/** The statistical evidence of one metric, one line. */
export function evidenceText(m: BaselineMetric): string {
  const e = m.evidence;
  if (e === null) return 'no test ran';
  if (e.test === 'fisher-exact') return `one-sided Fisher exact p ${pText(e.pValue)} (significant below ${p3(e.alpha)})`;
  const parts = [`Mann–Whitney p ${e.pValue === null ? `= ${NONE}` : pText(e.pValue)}`];
  if (e.shiftMs !== null) {
    const ci = e.ciLowerMs !== null && e.ciUpperMs !== null ? ` (${p3(e.confidence * 100)} % CI ${formatMs(e.ciLowerMs)} … ${formatMs(e.ciUpperMs)})` : '';
    parts.push(`shift ${e.shiftMs >= 0 ? '+' : ''}${formatMs(e.shiftMs)}${ci}`);
  }
  if (e.bandMs !== null) parts.push(`band ±${formatMs(e.bandMs)}`);
  if (e.meanRatio !== null) parts.push(`mean ratio ${e.meanRatio.toFixed(3)}`);
  parts.push(`samples ${e.baselineSamples} vs ${e.nextSamples}`);
  return parts.join(', ');
}

/** Evidence lines for every metric that did not pass (all of them with `all`). */
export function evidenceLines(b: BaselineSection, all = false): string[] {
  return b.scenarios.flatMap((s) => s.metrics.filter((m) => all || m.verdict !== 'pass').map((m) => `${s.title} · ${m.metric}: ${statusOfVerdict(m.verdict)} — ${m.reason}. Evidence: ${evidenceText(m)}.`));
}

/** What the baseline was and the rule it was judged by, one line. */
export function baselineHeadline(b: BaselineSection): string {
  if (b.runId === null) return `No baseline (${b.requested}): ${b.note ?? 'none found'}; this run was not compared.`;
  const r = b.rules;
  const pcts = r.percentiles.map((p) => `P${p}`).join('/');
  return `Against run ${b.runId}${b.startedAt ? ` (started ${b.startedAt})` : ''}, asked for as ${b.requested}. A regression: ${pcts} more than ${p3(r.maxIncreasePct)} % higher with the judge finding latency significantly higher at ${p3(r.confidence * 100)} % confidence, or the error rate up beyond noise${r.errorRateMinIncrease > 0 ? ` and by more than ${formatPct(r.errorRateMinIncrease)}` : ''}.`;
}

export function regressionCount(b: BaselineSection): number {
  return b.scenarios.reduce((n, s) => n + s.metrics.filter((m) => m.verdict === 'fail').length, 0);
}
