// A comparison as the `baseline` section of results.json: the figures and the evidence, without
// the judge's internals (sample summaries, configuration) that only matter while judging.
import type { BaselineMetric, BaselineSectionInput } from '../report/baseline-schema.ts';
import type { BaselineRules } from './rules.ts';
import type { Comparison, MetricComparison } from './compare.ts';

const finite = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

function evidenceOf(m: MetricComparison, confidence: number): BaselineMetric['evidence'] {
  const e = m.evidence;
  if (e === null) return null;
  if (e.kind === 'fisher-exact') return { test: 'fisher-exact', pValue: e.pValue, alpha: e.alpha };
  const t = e.judgement.test;
  return {
    test: 'mann-whitney',
    pValue: finite(t?.pValue),
    shiftMs: finite(t?.shift),
    ciLowerMs: finite(t?.ci.lower),
    ciUpperMs: finite(t?.ci.upper),
    confidence: t?.ci.confidence ?? confidence,
    bandMs: finite(t?.band),
    meanRatio: finite(e.judgement.deviation),
    baselineSamples: e.samples.baseline.used,
    nextSamples: e.samples.next.used,
  };
}

export function rulesSummary(r: BaselineRules): BaselineSectionInput['rules'] {
  return { percentiles: r.latency.percentiles, maxIncreasePct: r.latency.maxIncreasePct, errorRateMinIncrease: r.errorRate.minIncrease, confidence: r.confidence, tolerance: r.tolerance };
}

export function comparisonSection(c: Comparison, from: { requested: string; file: string; startedAt: string }): BaselineSectionInput {
  return {
    requested: from.requested,
    runId: c.baselineRunId,
    file: from.file,
    startedAt: from.startedAt,
    verdict: c.verdict,
    rules: rulesSummary(c.rules),
    scenarios: c.scenarios.map((s) => ({
      scenario: s.scenario,
      title: s.title,
      verdict: s.verdict,
      metrics: s.metrics.map((m) => ({
        metric: m.metric,
        unit: m.unit,
        baseline: finite(m.baseline),
        next: finite(m.next),
        deltaPct: finite(m.deltaPct),
        classification: m.classification,
        verdict: m.verdict,
        reason: m.reason,
        evidence: evidenceOf(m, c.rules.confidence),
      })),
    })),
  };
}

/** The section when no baseline was found (`last-pass` before any run passed): no comparison, and why. */
export function missingSection(requested: string, note: string, rules: BaselineRules): BaselineSectionInput {
  return { requested, runId: null, file: null, startedAt: null, verdict: 'no_data', note, rules: rulesSummary(rules), scenarios: [] };
}
