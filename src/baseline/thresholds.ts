// A baseline comparison as thresholds, so regressions land in results.json, the JUnit file and
// the run's verdict the same way every other failed threshold does.
import type { ThresholdResult } from '../score/types.ts';
import type { Comparison, MetricComparison } from './compare.ts';

function toThreshold(m: MetricComparison, c: Comparison): ThresholdResult {
  const latency = m.unit === 'ms';
  const max = c.rules.latency.maxIncreasePct;
  const expr = latency
    ? `${m.metric} vs baseline ${c.baselineRunId}: fails above +${max} % when the judge finds a significant rise`
    : `${m.metric} vs baseline ${c.baselineRunId}: fails when a one-sided exact test finds a rise at ${c.rules.confidence * 100} % confidence`;
  return {
    name: `baseline: ${m.metric}`,
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
