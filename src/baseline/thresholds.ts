// A baseline comparison as thresholds, so regressions land in results.json, the JUnit file and
// the run's verdict the same way every other failed threshold does.
import { BASELINE_THRESHOLD_PREFIX, type ScenarioResult } from '../report/results.ts';
import { applyHostSaturation } from '../score/host.ts';
import { applySaturation, statusOfVerdict } from '../score/status.ts';
import type { ThresholdResult, Verdict } from '../score/types.ts';
import { worstVerdict } from '../score/verdict.ts';
import type { Comparison, MetricComparison } from './compare.ts';

function toThreshold(m: MetricComparison, c: Comparison): ThresholdResult {
  const latency = m.unit === 'ms';
  const max = c.rules.latency.maxIncreasePct;
  const expr = latency
    ? `${m.metric} vs baseline ${c.baselineRunId}: fails above +${max} % when the judge finds a significant rise`
    : `${m.metric} vs baseline ${c.baselineRunId}: fails when a one-sided exact test finds a rise at ${c.rules.confidence * 100} % confidence`;
  return {
    name: `${BASELINE_THRESHOLD_PREFIX}${m.metric}`,
    source: 'client',
    expr,
    observed: m.next,
    unit: m.unit,
    verdict: m.verdict,
    detail: m.reason,
    ...(latency ? { regression: { maxIncreasePct: max, baseline: m.baseline, changePct: m.deltaPct, verdict: m.verdict } } : {}),
  };
}

/** Per scenario, one threshold per compared metric. */
export function comparisonThresholds(c: Comparison): { scenario: string; thresholds: ThresholdResult[] }[] {
  return c.scenarios.map((s) => ({ scenario: s.scenario, thresholds: s.metrics.map((m) => toThreshold(m, c)) }));
}

const VERDICT_OF_STATUS: Record<string, Verdict> = { Pass: 'pass', Fail: 'fail', Inconclusive: 'inconclusive', 'No data': 'no_data' };

/**
 * The run's scenarios with their baseline thresholds added and their status updated. A scenario
 * that did not run here is left alone (its thresholds are "Not run" already). The thresholds
 * are trusted as much as the scenario's own: a saturated generator makes them inconclusive, a
 * saturated host makes a latency regression inconclusive, as for every other latency threshold.
 */
export function withBaselineThresholds<S extends Pick<ScenarioResult, 'name' | 'status' | 'thresholds' | 'reasons'>>(scenarios: readonly S[], c: Comparison): S[] {
  const byScenario = new Map(comparisonThresholds(c).map((x) => [x.scenario, x.thresholds]));
  return scenarios.map((s) => {
    const added = byScenario.get(s.name);
    if (added === undefined || added.length === 0 || s.status === 'Not run') return s;
    const generatorSaturated = s.reasons.some((r) => r.startsWith('load generator saturated'));
    const host = s.reasons.find((r) => r.startsWith('host saturated'));
    const judged = applyHostSaturation(applySaturation(added, generatorSaturated), host);
    const verdict = worstVerdict([VERDICT_OF_STATUS[s.status] ?? 'no_data', ...judged.map((t) => t.verdict)]);
    const regressions = judged.filter((t) => t.verdict === 'fail').length;
    const reasons = regressions > 0 ? [...s.reasons, `${regressions} regression(s) against baseline ${c.baselineRunId}`] : s.reasons;
    return { ...s, thresholds: [...s.thresholds, ...judged], status: statusOfVerdict(verdict), reasons };
  });
}
