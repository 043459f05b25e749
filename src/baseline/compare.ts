// A run judged against a baseline run: per scenario, each latency percentile and the error rate,
// with the baseline value, the new value, the change, the statistical evidence and a verdict in
// the scorer's vocabulary (pass | fail | no_data). Pure: runs in, comparison out.
//
// Latency regresses only when BOTH hold:
// - the percentile grew by more than maxIncreasePct, and
// - the judge (Mann–Whitney on the two runs' latency samples, from their HDR histograms) calls
//   the new run High: its latency distribution sits significantly higher, by more than the
//   tolerance band.
// Either alone misleads. A P99 is one order statistic from the slowest 1 % of requests: on a
// noisy 2-core machine it moves 16 % between two runs of the same build while the rank test,
// which weighs every request, sees no shift — that is noise, and failing on it would train people
// to ignore the check. The other way round, with tens of thousands of requests the judge finds
// a real 2 % shift significant; it is real, but it is not the regression the plan sets a budget
// for. Note what the judge measures: a shift of the distribution as a whole. A slowdown of the
// tail alone, with the body unchanged, moves the P99 without the judge calling it High, and
// passes here; the plan's absolute P99 thresholds are what catch that.
//
// Error rate regresses when it rose by more than `minIncrease` and a one-sided exact test says
// the rise is beyond chance (error-rate.ts says why that test).
//
// No data is never a pass: a scenario in only one run, a scenario that did not run, a histogram
// without samples, a run with no requests — each is no_data with the reason.
import { classifyMetric, type Classification, type MetricClassification } from '../judge/classifier.ts';
import { MetricConfigSchema, parseOrThrow, resolveMetricConfig } from '../judge/config.ts';
import { histogramSamples } from '../judge/samples.ts';
import { LatencyHistogram, mergeEncoded } from '../load/histogram.ts';
import type { Verdict } from '../score/types.ts';
import { worstVerdict } from '../score/verdict.ts';
import { errorRateTest, type ErrorRateTest } from './error-rate.ts';
import { type BaselineRules, type BaselineRulesInput, BaselineRulesSchema } from './rules.ts';

/** What a stored run needs to hold for a comparison (results.json scenarios fit this shape). */
export interface ComparableScenario {
  name: string;
  title?: string;
  status?: string;
  requests: number;
  errors: number;
  /** Latency histogram(s), HdrHistogram V2 compressed base64 in µs; several are merged. */
  histogram?: string | readonly string[] | null;
}

export interface ComparableRun {
  runId: string;
  scenarios: readonly ComparableScenario[];
}

export interface LatencyEvidence {
  kind: 'judge';
  /** The judge's classification of the new run's latency against the baseline's (direction: increase). */
  judgement: MetricClassification;
  samples: { baseline: SampleInfo; next: SampleInfo };
}

export interface SampleInfo {
  /** Requests with a latency in the histogram. */
  recorded: number;
  /** Samples the judge saw (fewer when thinned). */
  used: number;
  thinned: boolean;
}

export interface ErrorRateEvidence extends ErrorRateTest {
  kind: 'fisher-exact';
  /** The test's significance level: 1 − confidence. */
  alpha: number;
}

export interface MetricComparison {
  /** `latency p99`, `error rate`, … */
  metric: string;
  unit: 'ms' | 'ratio';
  baseline: number | null;
  next: number | null;
  /** (next − baseline) / baseline × 100; null when either is missing or the baseline is 0. */
  deltaPct: number | null;
  /** High = significantly worse; Pass = no significant rise; Nodata/Error as the judge uses them. */
  classification: Classification | null;
  verdict: Verdict;
  reason: string;
  evidence: LatencyEvidence | ErrorRateEvidence | null;
}

export interface ScenarioComparison {
  scenario: string;
  title: string;
  verdict: Verdict;
  metrics: MetricComparison[];
}

export interface Comparison {
  baselineRunId: string;
  nextRunId: string;
  rules: BaselineRules;
  verdict: Verdict;
  scenarios: ScenarioComparison[];
}

const pctLabel = (p: number): string => `p${p}`;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const fmtPct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;

function deltaPct(base: number | null, next: number | null): number | null {
  if (base === null || next === null || base === 0) return null;
  return ((next - base) / Math.abs(base)) * 100;
}

function metricNames(rules: BaselineRules): { metric: string; unit: 'ms' | 'ratio' }[] {
  const out: { metric: string; unit: 'ms' | 'ratio' }[] = [];
  if (rules.latency.enabled) for (const p of rules.latency.percentiles) out.push({ metric: `latency ${pctLabel(p)}`, unit: 'ms' });
  if (rules.errorRate.enabled) out.push({ metric: 'error rate', unit: 'ratio' });
  return out;
}

function noData(metric: string, unit: 'ms' | 'ratio', reason: string, values: { baseline?: number | null; next?: number | null } = {}): MetricComparison {
  const baseline = values.baseline ?? null;
  const next = values.next ?? null;
  return { metric, unit, baseline, next, deltaPct: deltaPct(baseline, next), classification: null, verdict: 'no_data', reason, evidence: null };
}

function histogramOf(s: ComparableScenario): LatencyHistogram | null {
  const h = s.histogram;
  if (h === undefined || h === null) return null;
  return typeof h === 'string' ? LatencyHistogram.decode(h) : mergeEncoded(h);
}

const ran = (s: ComparableScenario): boolean => s.status !== 'Not run' && s.requests > 0;

function compareLatency(base: ComparableScenario, next: ComparableScenario, rules: BaselineRules): MetricComparison[] {
  const rows = rules.latency.percentiles.map((p) => ({ p, metric: `latency ${pctLabel(p)}` }));
  const hb = histogramOf(base);
  const hn = histogramOf(next);
  const where = (missingBase: boolean, missingNext: boolean): string => (missingBase && missingNext ? 'either run' : missingBase ? 'the baseline run' : 'the new run');
  if (hb === null || hn === null) {
    return rows.map(({ metric }) => noData(metric, 'ms', `no latency histogram stored for this scenario in ${where(hb === null, hn === null)}`));
  }
  if (hb.count === 0 || hn.count === 0) {
    return rows.map(({ metric }) => noData(metric, 'ms', `no latency samples in ${where(hb.count === 0, hn.count === 0)}`));
  }

  const sb = histogramSamples(hb, rules.maxSamplesPerSide);
  const sn = histogramSamples(hn, rules.maxSamplesPerSide);
  const judgement = classifyMetric('latency', sb.values, sn.values, resolveMetricConfig(MetricConfigSchema.parse({ direction: 'increase' })), {
    confidence: rules.confidence,
    tolerance: rules.tolerance,
    maxSamplesPerSide: rules.maxSamplesPerSide,
  });
  const evidence: LatencyEvidence = {
    kind: 'judge',
    judgement,
    samples: {
      baseline: { recorded: sb.recorded, used: judgement.control.used, thinned: sb.thinned || judgement.control.thinnedFrom !== null },
      next: { recorded: sn.recorded, used: judgement.experiment.used, thinned: sn.thinned || judgement.experiment.thinnedFrom !== null },
    },
  };
  const max = rules.latency.maxIncreasePct;

  return rows.map(({ p, metric }): MetricComparison => {
    const baseline = r3(hb.percentileMs(p));
    const value = r3(hn.percentileMs(p));
    const delta = deltaPct(baseline, value);
    const row = { metric, unit: 'ms' as const, baseline, next: value, deltaPct: delta, classification: judgement.classification, evidence };
    const label = `${pctLabel(p).toUpperCase()} ${baseline} → ${value} ms (${delta === null ? 'n/a' : fmtPct(delta)})`;
    if (delta === null || delta <= max) return { ...row, verdict: 'pass', reason: `${label}, within +${max} %` };
    switch (judgement.classification) {
      case 'High':
        return { ...row, verdict: 'fail', reason: `${label} exceeds +${max} % and the judge finds latency significantly higher: ${judgement.reason}` };
      case 'Pass':
      case 'Low':
        return { ...row, verdict: 'pass', reason: `${label} exceeds +${max} %, but the judge finds no significant rise (${judgement.reason}): noise` };
      case 'Nodata':
      case 'NodataFailMetric':
      case 'Error':
        return { ...row, verdict: 'no_data', reason: `${label} exceeds +${max} %, but the judge could not decide: ${judgement.reason}` };
    }
  });
}

function compareErrorRate(base: ComparableScenario, next: ComparableScenario, rules: BaselineRules): MetricComparison {
  const metric = 'error rate';
  for (const [s, which] of [
    [base, 'baseline'],
    [next, 'new'],
  ] as const) {
    if (!(Number.isInteger(s.errors) && s.errors >= 0 && s.errors <= s.requests)) return noData(metric, 'ratio', `the ${which} run's counts do not add up: ${s.errors} errors in ${s.requests} requests`);
  }
  const test = errorRateTest(base, next);
  const baseline = test.baseline.rate;
  const value = test.next.rate;
  const alpha = 1 - rules.confidence;
  const evidence: ErrorRateEvidence = { kind: 'fisher-exact', alpha, ...test };
  const significant = test.pValue < alpha;
  const rise = value - baseline;
  const row = { metric, unit: 'ratio' as const, baseline, next: value, deltaPct: deltaPct(baseline, value), evidence };
  const label = `error rate ${base.errors}/${base.requests} → ${next.errors}/${next.requests}, one-sided exact p = ${test.pValue.toPrecision(3)}`;
  if (significant && rise > rules.errorRate.minIncrease) {
    return { ...row, classification: 'High', verdict: 'fail', reason: `${label} < ${Number(alpha.toPrecision(3))}: rose beyond noise` };
  }
  const why = !significant ? `not below ${Number(alpha.toPrecision(3))}: within noise` : `significant, but a rise of ${rise.toPrecision(3)} is not above ${rules.errorRate.minIncrease}`;
  return { ...row, classification: 'Pass', verdict: 'pass', reason: `${label} ${why}` };
}

function compareScenario(base: ComparableScenario | undefined, next: ComparableScenario | undefined, rules: BaselineRules): ScenarioComparison {
  const s = (next ?? base) as ComparableScenario;
  const title = next?.title ?? base?.title ?? s.name;
  const finish = (metrics: MetricComparison[]): ScenarioComparison => ({ scenario: s.name, title, verdict: metrics.length === 0 ? 'no_data' : worstVerdict(metrics.map((m) => m.verdict)) as Verdict, metrics });
  const missing = base === undefined ? 'the baseline run' : next === undefined ? 'the new run' : !ran(base) ? 'the baseline run (not run or no requests)' : !ran(next) ? 'the new run (not run or no requests)' : null;
  if (missing !== null || base === undefined || next === undefined) {
    const reason = `scenario missing from ${missing ?? 'one run'}`;
    return finish(metricNames(rules).map(({ metric, unit }) => noData(metric, unit, reason)));
  }
  const metrics: MetricComparison[] = [];
  if (rules.latency.enabled) metrics.push(...compareLatency(base, next, rules));
  if (rules.errorRate.enabled) metrics.push(compareErrorRate(base, next, rules));
  return finish(metrics);
}

/**
 * The scenarios of a stored run that can be compared: a template row the run never ran ("Not
 * run") is not a scenario of that run. Two runs of a chosen few scenarios are compared on those;
 * a scenario that ran in one run only is still reported (no data, missing from the other).
 */
export function ranScenarios<R extends ComparableRun>(run: R): ComparableRun {
  return { runId: run.runId, scenarios: run.scenarios.filter((s) => s.status !== 'Not run') };
}

/** Judge `next` against `base`, scenario by scenario (matched by name). */
export function compareRuns(base: ComparableRun, next: ComparableRun, rulesInput: BaselineRulesInput = {}): Comparison {
  const rules = parseOrThrow(BaselineRulesSchema, rulesInput, 'baseline rules');
  const byName = (run: ComparableRun) => new Map(run.scenarios.map((s) => [s.name, s]));
  const b = byName(base);
  const n = byName(next);
  const names = [...b.keys(), ...[...n.keys()].filter((k) => !b.has(k))];
  const scenarios = names.map((name) => compareScenario(b.get(name), n.get(name), rules));
  const verdict: Verdict = scenarios.length === 0 ? 'no_data' : (worstVerdict(scenarios.map((s) => s.verdict)) as Verdict);
  return { baselineRunId: base.runId, nextRunId: next.runId, rules, verdict, scenarios };
}
