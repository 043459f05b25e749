import { describe, expect, it } from 'vitest';
import { compareRuns, type Comparison, type LatencyEvidence, type MetricComparison } from '../../../src/baseline/compare.ts';
import { BaselineRulesSchema } from '../../../src/baseline/rules.ts';
import { comparisonThresholds } from '../../../src/baseline/thresholds.ts';
import { JudgeConfigError } from '../../../src/judge/config.ts';
import { parseResults } from '../../../src/report/results.ts';
import { sampleResults } from '../report/fixtures.ts';
import { latencyHistogram, run, scenario } from './fixtures.ts';

const N = 20_000;
const row = (c: Comparison, scenarioName: string, metric: string): MetricComparison => {
  const m = c.scenarios.find((s) => s.scenario === scenarioName)?.metrics.find((x) => x.metric === metric);
  if (m === undefined) throw new Error(`no ${metric} row for ${scenarioName} in ${JSON.stringify(c.scenarios.map((s) => s.scenario))}`);
  return m;
};
const judgement = (m: MetricComparison) => (m.evidence as LatencyEvidence).judgement;

describe('compareRuns: latency', () => {
  const baseline = run('base', [scenario('policy-evaluation', latencyHistogram(N, 1)), scenario('audit-write', latencyHistogram(N, 2, { medianMs: 20 }))]);

  it('two runs drawn from the same distribution: no regression anywhere', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3)), scenario('audit-write', latencyHistogram(N, 4, { medianMs: 20 }))]);
    const c = compareRuns(baseline, next);
    expect(c.verdict, JSON.stringify(c.scenarios.flatMap((s) => s.metrics.map((m) => m.reason)))).toBe('pass');
    const p99 = row(c, 'policy-evaluation', 'latency p99');
    expect(p99.classification).toBe('Pass');
    expect(Math.abs(p99.deltaPct!)).toBeLessThan(5);
    expect(p99.unit).toBe('ms');
    expect(c).toMatchObject({ baselineRunId: 'base', nextRunId: 'next' });
  });

  it('a scenario shifted by +40 ms regresses, with the judge’s evidence; the other does not', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3, { shiftMs: 40 })), scenario('audit-write', latencyHistogram(N, 4, { medianMs: 20 }))]);
    const c = compareRuns(baseline, next);
    expect(c.verdict).toBe('fail');
    expect(c.scenarios.map((s) => [s.scenario, s.verdict])).toEqual([
      ['policy-evaluation', 'fail'],
      ['audit-write', 'pass'],
    ]);
    const p99 = row(c, 'policy-evaluation', 'latency p99');
    expect(p99.verdict).toBe('fail');
    expect(p99.classification).toBe('High');
    expect(p99.deltaPct).toBeGreaterThan(15);
    expect(p99.next! - p99.baseline!).toBeGreaterThan(30);
    const j = judgement(p99);
    // The shift the judge estimates is the one we put in, to within the histogram's resolution and sampling.
    expect(j.test!.shift).toBeGreaterThan(38);
    expect(j.test!.shift).toBeLessThan(42);
    expect(j.test!.ci.lower).toBeGreaterThan(j.test!.band);
    expect((p99.evidence as LatencyEvidence).samples.baseline).toEqual({ recorded: N, used: N, thinned: false });
    expect(p99.reason).toMatch(/exceeds \+15 % and the judge finds latency significantly higher/);
  });

  it('a P99 up by more than 15 % with the judge seeing no shift is noise, not a regression', () => {
    // The slowest ~3 % (above 130 ms) get 40 % slower; the body of the distribution is unchanged.
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3, { tailAboveMs: 130, tailFactor: 1.4 }))]);
    const p99 = row(compareRuns(baseline, next), 'policy-evaluation', 'latency p99');
    expect(p99.deltaPct).toBeGreaterThan(15);
    expect(p99.classification).toBe('Pass');
    expect(p99.verdict).toBe('pass');
    expect(p99.reason).toMatch(/no significant rise .*: noise/);
  });

  it('a significant shift with the P99 inside its budget is not a regression either', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3, { shiftMs: 3 }))]);
    const p99 = row(compareRuns(baseline, next), 'policy-evaluation', 'latency p99');
    expect(p99.classification).toBe('High');
    expect(p99.deltaPct).toBeLessThan(15);
    expect(p99.verdict).toBe('pass');
  });

  it('the percentiles compared and the budget are rules', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3, { shiftMs: 3 }))]);
    const c = compareRuns(baseline, next, { latency: { percentiles: [50, 95, 99], maxIncreasePct: 1 }, errorRate: { enabled: false } });
    expect(c.scenarios[0]?.metrics.map((m) => [m.metric, m.verdict])).toEqual([
      ['latency p50', 'fail'],
      ['latency p95', 'fail'],
      ['latency p99', 'fail'],
    ]);
  });

  it('a scenario missing from either run is no data, never a pass', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3)), scenario('connector-burst', latencyHistogram(N, 5))]);
    const c = compareRuns(baseline, next);
    const audit = c.scenarios.find((s) => s.scenario === 'audit-write')!;
    expect(audit.verdict).toBe('no_data');
    expect(audit.metrics.map((m) => [m.metric, m.verdict, m.reason])).toEqual([
      ['latency p99', 'no_data', 'scenario missing from the new run'],
      ['error rate', 'no_data', 'scenario missing from the new run'],
    ]);
    expect(row(c, 'connector-burst', 'latency p99')).toMatchObject({ verdict: 'no_data', reason: 'scenario missing from the baseline run', baseline: null, deltaPct: null });
    expect(c.verdict).toBe('no_data');
  });

  it('a histogram without samples, or no histogram at all, is no data', () => {
    const empty = run('next', [scenario('policy-evaluation', latencyHistogram(0, 3), 0, 10), scenario('audit-write', null, 0, 10)]);
    const c = compareRuns(baseline, empty, { errorRate: { enabled: false } });
    expect(row(c, 'policy-evaluation', 'latency p99')).toMatchObject({ verdict: 'no_data', reason: 'no latency samples in the new run' });
    expect(row(c, 'audit-write', 'latency p99')).toMatchObject({ verdict: 'no_data', reason: 'no latency histogram stored for this scenario in the new run' });
  });

  it('thins large histograms to the sample cap and says so', () => {
    const next = run('next', [scenario('policy-evaluation', latencyHistogram(N, 3, { shiftMs: 40 }))]);
    const p99 = row(compareRuns(baseline, next, { maxSamplesPerSide: 2000 }), 'policy-evaluation', 'latency p99');
    expect((p99.evidence as LatencyEvidence).samples.next).toEqual({ recorded: N, used: 2000, thinned: true });
    expect(p99.verdict).toBe('fail');
  });
});

describe('compareRuns: error rate', () => {
  const h = latencyHistogram(5000, 1);
  const cmp = (baseErrors: number, nextErrors: number, rules = {}, requests = 5000) =>
    row(compareRuns(run('b', [scenario('s', h, baseErrors, requests)]), run('n', [scenario('s', h, nextErrors, requests)]), { latency: { enabled: false }, ...rules }), 's', 'error rate');

  // p-values from scipy 1.17.1: scipy.stats.fisher_exact([[next_errors, next_ok], [base_errors, base_ok]], alternative='greater').
  it('2 → 3 errors in 5,000 is noise (p = 0.5)', () => {
    const m = cmp(2, 3);
    expect(m).toMatchObject({ verdict: 'pass', classification: 'Pass', baseline: 0.0004, next: 0.0006 });
    expect(m.deltaPct).toBeCloseTo(50, 9);
    expect((m.evidence as { pValue: number }).pValue).toBeCloseTo(0.5, 12);
  });

  it('2 → 40 errors in 5,000 is a regression (p = 1.915e-10)', () => {
    const m = cmp(2, 40);
    expect(m).toMatchObject({ verdict: 'fail', classification: 'High' });
    expect((m.evidence as { pValue: number }).pValue).toBeCloseTo(1.9150149802867425e-10, 20);
    expect(m.reason).toMatch(/rose beyond noise/);
  });

  it('0 → 5 errors in 5,000 is not enough at 98 % (exact p = 0.0312; a z-test would have said 0.0127)', () => {
    const m = cmp(0, 5);
    expect((m.evidence as { pValue: number }).pValue).toBeCloseTo(0.03121875156406308, 12);
    expect(m.verdict).toBe('pass');
    expect(m.deltaPct).toBeNull(); // a rise from 0 has no percentage
    // At 95 % confidence the same counts fail.
    expect(cmp(0, 5, { confidence: 0.95 }).verdict).toBe('fail');
  });

  it('a significant rise smaller than minIncrease passes', () => {
    expect(cmp(2, 40).verdict).toBe('fail');
    const m = cmp(2, 40, { errorRate: { minIncrease: 0.01 } });
    expect(m.verdict).toBe('pass');
    expect(m.reason).toMatch(/significant, but a rise of 0.00760 is not above 0.01/);
  });

  it('counts that do not add up are no data, not a crash', () => {
    expect(cmp(2, 6000)).toMatchObject({ verdict: 'no_data', reason: "the new run's counts do not add up: 6000 errors in 5000 requests" });
  });

  it('a run without requests is no data', () => {
    const c = compareRuns(run('b', [scenario('s', h, 0, 5000)]), run('n', [scenario('s', null, 0, 0)]));
    expect(row(c, 's', 'error rate')).toMatchObject({ verdict: 'no_data', reason: 'scenario missing from the new run (not run or no requests)' });
  });
});

describe('rules and stored runs', () => {
  it('defaults are the plan’s canary rule', () => {
    expect(BaselineRulesSchema.parse({})).toEqual({
      latency: { enabled: true, percentiles: [99], maxIncreasePct: 15 },
      errorRate: { enabled: true, minIncrease: 0 },
      confidence: 0.98,
      tolerance: 0.25,
      maxSamplesPerSide: 100_000,
    });
  });

  it('bad rules are config errors', () => {
    expect(() => compareRuns(run('a', []), run('b', []), { latency: { percentiles: [0] } })).toThrow(JudgeConfigError);
    expect(() => compareRuns(run('a', []), run('b', []), { confidence: 2 } as never)).toThrow(/baseline rules: confidence/);
  });

  it('two runs with no scenarios compare to no data', () => {
    expect(compareRuns(run('a', []), run('b', [])).verdict).toBe('no_data');
  });

  it('takes results.json as stored: without histograms latency is no data, error rates still compare', () => {
    const stored = parseResults(sampleResults());
    const c = compareRuns(stored, stored);
    expect(row(c, 'policy-evaluation', 'latency p99')).toMatchObject({ verdict: 'no_data', reason: 'no latency histogram stored for this scenario in either run' });
    expect(row(c, 'policy-evaluation', 'error rate').verdict).toBe('pass');
    // status "Not run" is not a run.
    expect(row(c, 'mixed-workload', 'error rate')).toMatchObject({ verdict: 'no_data' });
  });

  it('becomes thresholds for results.json, with the regression figures on latency rows', () => {
    const base = run('base', [scenario('s', latencyHistogram(N, 1), 2)]);
    const next = run('next', [scenario('s', latencyHistogram(N, 3, { shiftMs: 40 }), 40)]);
    const [s] = comparisonThresholds(compareRuns(base, next));
    expect(s?.scenario).toBe('s');
    const [lat, err] = s!.thresholds;
    expect(lat).toMatchObject({ name: 'baseline: latency p99', source: 'client', unit: 'ms', verdict: 'fail', regression: { maxIncreasePct: 15, verdict: 'fail' } });
    expect(lat?.regression?.changePct).toBeGreaterThan(15);
    expect(err).toMatchObject({ name: 'baseline: error rate', unit: 'ratio', verdict: 'fail' });
    expect(err?.regression).toBeUndefined();
  });
});
