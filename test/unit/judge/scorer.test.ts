import { describe, expect, it } from 'vitest';
import type { Classification } from '../../../src/judge/classifier.ts';
import { classifyScore, round2, type ScoredMetric, scoreMetrics } from '../../../src/judge/scorer.ts';

const OPTS = { groupWeights: {}, scoreThresholds: { pass: 95, marginal: 75 } };
let seq = 0;
const m = (group: string | string[], classification: Classification, extra: Partial<ScoredMetric> = {}): ScoredMetric => ({
  name: `m${++seq}`,
  groups: typeof group === 'string' ? [group] : group,
  classification,
  critical: false,
  muted: false,
  reason: classification,
  ...extra,
});

describe('group scores', () => {
  it('100 × Pass / (Pass + High + Low + NodataFailMetric); Nodata and Error count for nothing', () => {
    // 3 Pass, 1 High → 75; the Nodata and the Error change neither side of the fraction.
    const r = scoreMetrics([m('g', 'Pass'), m('g', 'Pass'), m('g', 'Pass'), m('g', 'High'), m('g', 'Nodata'), m('g', 'Error')], OPTS);
    expect(r.groups).toEqual([{ name: 'g', score: 75, weight: 100, counts: { Pass: 3, High: 1, Low: 0, Nodata: 1, NodataFailMetric: 0, Error: 1 } }]);
    expect(r.score).toBe(75);
  });

  it('NodataFailMetric counts against the group like High and Low', () => {
    // 1 Pass of (1 Pass + 1 Low + 1 NodataFailMetric) → 33.33.
    expect(scoreMetrics([m('g', 'Pass'), m('g', 'Low'), m('g', 'NodataFailMetric')], OPTS).score).toBe(33.33);
  });

  it('a group where nothing counted has no score and enters the sum as 100', () => {
    // a: 1/2 → 50; b: only an Error → no score, counts 100. Each weighs 50: 25 + 50 = 75.
    const r = scoreMetrics([m('a', 'Pass'), m('a', 'High'), m('b', 'Error')], OPTS);
    expect(r.groups.find((g) => g.name === 'b')?.score).toBeNull();
    expect(r.score).toBe(75);
  });

  it('a metric in two groups counts in both', () => {
    const r = scoreMetrics([m(['a', 'b'], 'High'), m('a', 'Pass')], OPTS);
    expect(r.groups.map((g) => [g.name, g.score])).toEqual([
      ['a', 50],
      ['b', 0],
    ]);
  });
});

describe('summary score and weights', () => {
  it('configured weights, and the unweighted groups share what is left equally', () => {
    // a weighs 60 (score 50 → 30); b and c share 40 → 20 each: b 100 → 20, c 0 → 0. Sum 50.
    const r = scoreMetrics([m('a', 'Pass'), m('a', 'High'), m('b', 'Pass'), m('c', 'Low')], { ...OPTS, groupWeights: { a: 60 } });
    expect(r.groups.map((g) => [g.name, g.weight])).toEqual([
      ['a', 60],
      ['b', 20],
      ['c', 20],
    ]);
    expect(r.score).toBe(50);
    expect(r.classification).toBe('Fail');
  });

  it('weights for groups with no metrics still use up their share', () => {
    // requests: 50 is configured but absent; system gets the other 50, and scores 100 → 50.
    expect(scoreMetrics([m('system', 'Pass')], { ...OPTS, groupWeights: { requests: 50 } }).score).toBe(50);
  });

  it('rounds to two decimals', () => {
    // three unweighted groups at 100, 100, 0 → 66.666… → 66.67
    expect(scoreMetrics([m('a', 'Pass'), m('b', 'Pass'), m('c', 'High')], OPTS).score).toBe(66.67);
    expect(round2(94.995)).toBe(95);
    expect(round2(2 / 3)).toBe(0.67);
  });

  it('muted metrics are left out entirely', () => {
    const r = scoreMetrics([m('g', 'Pass'), m('g', 'High', { muted: true }), m('g', 'Low', { muted: true, critical: true })], OPTS);
    expect(r.score).toBe(100);
    expect(r.groups[0]?.counts.High).toBe(0);
  });
});

describe('overrides', () => {
  it('a critical result that is not Pass makes the score 0, whatever the groups say', () => {
    const metrics = Array.from({ length: 19 }, () => m('g', 'Pass'));
    const r = scoreMetrics([...metrics, m('g', 'High', { critical: true, name: 'latency', reason: 'slower' })], OPTS);
    expect(r.groups[0]?.score).toBe(95);
    expect(r.score).toBe(0);
    expect(r.classification).toBe('Fail');
    expect(r.reason).toMatch(/critical metric latency is High: slower/);
  });

  it('Nodata on half the metrics or more makes the score 0; just under half does not', () => {
    const half = scoreMetrics([m('g', 'Pass'), m('g', 'Pass'), m('g', 'Nodata'), m('g', 'Nodata')], OPTS);
    expect(half.score).toBe(0);
    expect(half.reason).toMatch(/2 of 4 metrics had no data/);
    const under = scoreMetrics([m('g', 'Pass'), m('g', 'Pass'), m('g', 'Pass'), m('g', 'Nodata'), m('g', 'Nodata')], OPTS);
    expect(under.score).toBe(100);
    expect(under.reason).toBeNull();
  });

  it('NodataFailMetric does not count towards the Nodata override (it already fails its group)', () => {
    const r = scoreMetrics([m('g', 'Pass'), m('g', 'NodataFailMetric')], OPTS);
    expect(r.score).toBe(50);
    expect(r.reason).toBeNull();
  });

  it('nothing to judge is a 0 and a Fail, with a reason', () => {
    const r = scoreMetrics([m('g', 'Pass', { muted: true })], OPTS);
    expect(r).toMatchObject({ score: 0, classification: 'Fail', reason: 'no unmuted metrics to judge' });
  });
});

describe('classification thresholds', () => {
  it.each([
    [100, 'Pass'],
    [95, 'Pass'],
    [94.99, 'Marginal'],
    [75, 'Marginal'],
    [74.99, 'Fail'],
    [0, 'Fail'],
  ] as const)('%d → %s', (score, expected) => {
    expect(classifyScore(score, { pass: 95, marginal: 75 })).toBe(expected);
  });
});
