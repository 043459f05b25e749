import { describe, expect, it } from 'vitest';
import { classifyMetric } from '../../../src/judge/classifier.ts';
import { outlierFences, percentileSorted } from '../../../src/judge/outliers.ts';
import { metricConfig, normalish, SETTINGS } from './helpers.ts';

const classify = (control: ArrayLike<number>, experiment: ArrayLike<number>, cfg = metricConfig(), settings = SETTINGS) =>
  classifyMetric('m', control, experiment, cfg, settings);

describe('pre-checks, in order', () => {
  it('identical samples pass without running the test', () => {
    const r = classify([3, 1, 2, 2], [2, 2, 1, 3]);
    expect(r.classification).toBe('Pass');
    expect(r.test).toBeNull();
    expect(r.reason).toMatch(/identical/);
    expect(r.deviation).toBe(1);
  });

  it('one distinct value across both sides passes, whatever the counts', () => {
    const r = classify([7, 7, 7], [7, 7, 7, 7, 7]);
    expect(r.classification).toBe('Pass');
    expect(r.test).toBeNull();
    expect(r.reason).toMatch(/every value on both sides is 7/);
  });

  it('two constant sides get seeded noise, then the test runs: 6s against 5s is High, the same way every time', () => {
    const control = Array<number>(20).fill(5);
    const experiment = Array<number>(20).fill(6);
    const r = classify(control, experiment);
    expect(r.classification).toBe('High');
    expect(r.test?.noiseAdded).toBe(true);
    // Noise of 1e-5 × value cannot move a shift of 1 by more than a hair.
    expect(r.test?.shift).toBeCloseTo(1, 3);
    expect(r.test?.shift).not.toBe(1); // the noise did move the values
    expect(classify(control, experiment)).toEqual(r);
  });

  it('a constant control of 0 still judges: the effect size is unknown (mean 0) and does not veto', () => {
    const r = classify(Array<number>(10).fill(0), Array<number>(10).fill(5));
    expect(r.classification).toBe('High');
    expect(r.deviation).toBeNull();
    expect(r.test?.effectSize.value).toBeNull();
  });

  it('an empty side is Nodata; NodataFailMetric when data is required; critical stays Nodata and critical', () => {
    expect(classify([], [1, 2])).toMatchObject({ classification: 'Nodata', critical: false, reason: 'no data in control', deviation: null });
    expect(classify([1, 2], [], metricConfig({ mustHaveData: true }))).toMatchObject({ classification: 'NodataFailMetric', critical: false });
    expect(classify([1, 2], [], metricConfig({ mustHaveData: true, critical: true }))).toMatchObject({ classification: 'Nodata', critical: true });
  });

  it('an empty side is Nodata under the replace strategy too (no data is never a pass)', () => {
    expect(classify([], [], metricConfig({ nanStrategy: 'replace' })).classification).toBe('Nodata');
  });
});

describe('the test and its bounds', () => {
  const control = normalish(200, 100, 10, 1);
  const higher = normalish(200, 130, 10, 2);
  const lower = normalish(200, 70, 10, 3);

  it('a clearly higher experiment is High when increase counts, with the evidence', () => {
    for (const direction of ['increase', 'either'] as const) {
      const r = classify(control, higher, metricConfig({ direction }));
      expect(r.classification, direction).toBe('High');
      const t = r.test!;
      expect(t.shift).toBeGreaterThan(25);
      expect(t.band).toBeCloseTo(0.25 * Math.abs(t.shift), 12);
      expect(t.ci.lower).toBeGreaterThan(t.band);
      expect(t.ci.confidence).toBe(0.98);
      expect(t.pValue).toBeLessThan(1e-10);
      expect(r.deviation).toBeCloseTo(r.experiment.mean! / r.control.mean!, 12);
      expect(t.effectSize).toEqual({ measure: 'meanRatio', value: r.deviation });
      expect(r.reason).toMatch(/experiment higher: shift/);
    }
  });

  it('the same shift is not flagged when only a decrease counts', () => {
    const r = classify(control, higher, metricConfig({ direction: 'decrease' }));
    expect(r.classification).toBe('Pass');
    expect(r.reason).toMatch(/only a decrease counts/);
  });

  it('a clearly lower experiment is Low for decrease/either and Pass for increase', () => {
    expect(classify(control, lower, metricConfig({ direction: 'either' })).classification).toBe('Low');
    expect(classify(control, lower, metricConfig({ direction: 'decrease' })).classification).toBe('Low');
    expect(classify(control, lower, metricConfig({ direction: 'increase' })).classification).toBe('Pass');
  });

  it('two draws of the same distribution pass: the interval does not clear the band', () => {
    const r = classify(control, normalish(200, 100, 10, 4));
    expect(r.classification).toBe('Pass');
    expect(r.test!.ci.lower).toBeLessThanOrEqual(r.test!.band);
    expect(r.test!.ci.upper).toBeGreaterThanOrEqual(-r.test!.band);
  });

  it('a tiny p-value alone is not High: the interval must clear ±tolerance × |shift|', () => {
    // Half the experiment at 0, half like the control: the differences are bimodal, the shift
    // lands between the modes and its interval is too wide for its own band.
    const base = normalish(100, 50, 5, 11);
    const half = base.map((v, i) => (i % 2 === 0 ? 0 : v));
    const r = classify(base, half);
    expect(r.test!.pValue).toBeLessThan(1e-6);
    expect(r.test!.ci.upper).toBeGreaterThan(-r.test!.band);
    expect(r.classification).toBe('Pass');
    expect(r.reason).toMatch(/does not clear/);
    // With no tolerance band the interval alone decides, and it lies wholly below 0.
    expect(classify(base, half, metricConfig(), { ...SETTINGS, tolerance: 0 }).classification).toBe('Low');
    // The mirror image upwards: half the experiment 100 higher.
    const up = base.map((v, i) => (i % 2 === 0 ? v + 100 : v));
    const u = classify(base, up);
    expect(u.test!.ci.lower).toBeGreaterThan(0);
    expect(u.test!.ci.lower).toBeLessThan(u.test!.band);
    expect(u.classification).toBe('Pass');
    expect(classify(base, up, metricConfig(), { ...SETTINGS, tolerance: 0 }).classification).toBe('High');
  });

  it('a significant shift below the allowed effect size passes; the default (ratio ≥ 1) flags it', () => {
    const big = normalish(4000, 100, 10, 5);
    const shifted = normalish(4000, 105, 10, 6);
    expect(classify(big, shifted).classification).toBe('High');
    const r = classify(big, shifted, metricConfig({ effectSize: { allowedIncrease: 1.1 } }));
    expect(r.classification).toBe('Pass');
    expect(r.reason).toMatch(/within the allowed effect size/);
  });

  it('CLES is U over n·m and defaults to a 0.5 limit', () => {
    const r = classify(control, higher, metricConfig({ effectSize: { measure: 'cles' } }));
    expect(r.classification).toBe('High');
    expect(r.test!.effectSize.measure).toBe('cles');
    expect(r.test!.effectSize.value).toBe(r.test!.u / (200 * 200));
    expect(metricConfig({ effectSize: { measure: 'cles' } }).effectSize).toEqual({
      measure: 'cles',
      allowedIncrease: 0.5,
      allowedDecrease: 0.5,
      criticalIncrease: 0.5,
      criticalDecrease: 0.5,
    });
  });

  it('critical: High past the critical effect size is critical; below it, High but not critical', () => {
    expect(classify(control, higher, metricConfig({ critical: true }))).toMatchObject({ classification: 'High', critical: true });
    expect(classify(control, higher, metricConfig({ critical: true, effectSize: { criticalIncrease: 2 } }))).toMatchObject({ classification: 'High', critical: false });
    expect(classify(control, higher, metricConfig({ critical: false }))).toMatchObject({ classification: 'High', critical: false });
  });

  it('above the cap each side is a seeded random subsample, the same every time, and the result says so', () => {
    const c = normalish(5000, 100, 10, 7);
    const e = normalish(5000, 110, 10, 8);
    const r = classify(c, e, metricConfig(), { ...SETTINGS, maxSamplesPerSide: 1000 });
    expect(r.control).toMatchObject({ input: 5000, used: 1000, thinnedFrom: 5000 });
    expect(r.experiment).toMatchObject({ input: 5000, used: 1000, thinnedFrom: 5000 });
    expect(r.classification).toBe('High');
    // 1000 of 5000 (sd 10): the shift's standard error is about 0.5; allow four of them.
    expect(Math.abs(r.test!.shift - classify(c, e).test!.shift)).toBeLessThan(2);
    expect(classify(c, e, metricConfig(), { ...SETTINGS, maxSamplesPerSide: 1000 })).toEqual(r);
    expect(classify(c, e).control.thinnedFrom).toBeNull();
  });
});

describe('NaN strategies', () => {
  const base = normalish(100, 50, 5, 11);
  const withNaN = base.map((v, i) => (i % 2 === 0 ? Number.NaN : v));

  it('remove drops NaN values and judges the rest', () => {
    const r = classify(base, withNaN, metricConfig({ nanStrategy: 'remove' }));
    expect(r.experiment).toMatchObject({ input: 100, nan: 50, used: 50 });
    expect(r.classification).toBe('Pass');
  });

  it('replace counts them as 0, which here drags the experiment down', () => {
    const mostlyNaN = base.map((v, i) => (i % 4 === 0 ? v : Number.NaN));
    const r = classify(base, mostlyNaN, metricConfig({ nanStrategy: 'replace' }));
    expect(r.experiment).toMatchObject({ input: 100, nan: 75, used: 100 });
    expect(r.classification).toBe('Low');
    expect(classify(base, mostlyNaN, metricConfig({ nanStrategy: 'remove' })).classification).toBe('Pass');
  });

  it('all NaN under remove leaves no data', () => {
    expect(classify(base, [Number.NaN, Number.NaN]).classification).toBe('Nodata');
  });

  it('infinite values are an Error, critical when the metric is', () => {
    expect(classify([1, 2, Number.POSITIVE_INFINITY], [1, 2, 3])).toMatchObject({ classification: 'Error', critical: false, reason: /control holds infinite/ });
    expect(classify([1, 2, 3], [Number.NEGATIVE_INFINITY, 2], metricConfig({ critical: true }))).toMatchObject({ classification: 'Error', critical: true });
  });
});

describe('outliers', () => {
  it('fences are the IQR fences widened to the 1st/99th percentiles (hand-computed on 1…100)', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    // position (n−1)·p. p25 at 24.75 → 25.75; p75 at 74.25 → 75.25; p1 at 0.99 → 1.99; p99 at 98.01 → 99.01.
    expect(percentileSorted(sorted, 25)).toBeCloseTo(25.75, 12);
    expect(percentileSorted(sorted, 75)).toBeCloseTo(75.25, 12);
    // factor 3: IQR fences 25.75 − 148.5 and 75.25 + 148.5 lie outside the data: they win.
    expect(outlierFences(sorted, 3)).toEqual({ lower: 25.75 - 3 * 49.5, upper: 75.25 + 3 * 49.5 });
    // factor 0.1: IQR fences 20.8 / 80.2 would cut 40 values; the 1st/99th percentiles win instead.
    const f = outlierFences(sorted, 0.1);
    expect(f.lower).toBeCloseTo(1.99, 12);
    expect(f.upper).toBeCloseTo(99.01, 12);
  });

  it('remove drops the far values of each side; keep judges them', () => {
    const control = normalish(1000, 100, 5, 21);
    const experiment = [...control, 1e6, 2e6, 5e6];
    const kept = classify(control, experiment, metricConfig({ outliers: { strategy: 'keep' } }));
    expect(kept.experiment.outliersRemoved).toBe(0);
    expect(kept.deviation).toBeGreaterThan(1.05);
    const removed = classify(control, experiment, metricConfig({ outliers: { strategy: 'remove' } }));
    expect(removed.control.outliersRemoved).toBe(0);
    expect(removed.experiment.outliersRemoved).toBe(3);
    // What is left of the experiment is the control itself.
    expect(removed.reason).toMatch(/identical/);
  });
});
