import { describe, expect, it } from 'vitest';
import { hodgesLehmann, mannWhitney, sortedCopy } from '../../../src/judge/mann-whitney.ts';

// Argument order everywhere: control first, experiment second; the shift is experiment − control.

describe('Mann–Whitney U, p-value, Hodges–Lehmann shift and its interval', () => {
  it('small samples without ties, computed by hand', () => {
    // control 1 2 4, experiment 3 5 6.
    // U(experiment) = pairs where experiment is higher: 3 beats 1,2; 5 and 6 beat all three → 2+3+3 = 8.
    // No ties: σ = √(3·3·(3+3+1)/12) = √5.25; z = (8 − 4.5 − ½)/√5.25 = 1.3093; p = 2·(1 − Φ(z)) = 0.19043.
    // Differences e − c: 3→{2,1,−1} 5→{4,3,1} 6→{5,4,2}; sorted −1 1 1 2 2 3 4 4 5 → median 2.
    // 95 % interval: at the smallest shift −1 the statistic (experiment 4 ties control 4) is
    // z = (8.5 − 4.5 − ½)/√(0.75·(7 − 6/30)) = 1.55 < 1.96, so the lower bound stays at −1; by the
    // mirror argument the upper bound stays at the largest shift, 5.
    const r = mannWhitney([1, 2, 4], [3, 5, 6], { confidence: 0.95 });
    expect(r.u).toBe(8);
    expect(r.pValue).toBeCloseTo(0.19043026382552397, 12);
    expect(r.estimate).toBe(2);
    expect([r.lower, r.upper]).toEqual([-1, 5]);
    expect(r.n).toEqual({ control: 3, experiment: 3 });
  });

  it('ties get mid-ranks and shrink the variance', () => {
    // control 1 2 2 3, experiment 2 3 3 4. Pooled: 1 | 2 2 2 | 3 3 3 | 4 → mid-ranks 1; 3 3 3; 6 6 6; 8.
    // Experiment rank sum 3+6+6+8 = 23 → U = 23 − 4·5/2 = 13.
    // Tie groups of 3 and 3: Σ(t³ − t) = 48; σ = √(16/12 · (9 − 48/56)) = 3.2950;
    // z = (13 − 8 − ½)/σ = 1.3657; p = 0.17203.
    // Differences: −1 ×1, 0 ×4, 1 ×6, 2 ×4, 3 ×1 (16); the 8th and 9th are both 1 → shift 1.
    const r = mannWhitney([1, 2, 2, 3], [2, 3, 3, 4], { confidence: 0.95 });
    expect(r.u).toBe(13);
    expect(r.pValue).toBeCloseTo(0.1720337089218229, 12);
    expect(r.estimate).toBe(1);
    // Without the tie correction σ would be √(16·9/12) = 3.4641 and p = 0.1939: the test sees the ties.
    expect(r.pValue).toBeLessThan(0.19);
  });

  // Expected values from scipy 1.17.1: scipy.stats.mannwhitneyu(experiment, control,
  // method='asymptotic', use_continuity=True) for U and p; the shift as numpy's median of all
  // pairwise differences; the bounds by evaluating the same standardized statistic (scipy's
  // rankdata, tie-corrected σ, continuity correction) between every pair of consecutive
  // differences and taking the differences where it crosses ±z.
  it.each([
    {
      what: 'integers, many ties, no shift',
      experiment: [4, 5, 3, 4, 5, 1, 0, 1, 1, 5, 5, 0, 2, 4],
      control: [4, 0, 2, 4, 1, 2, 1, 4, 1, 5],
      confidence: 0.95,
      u: 80,
      p: 0.5696910646389037,
      shift: 0,
      ci: [-1, 3],
    },
    {
      what: 'continuous, unequal sizes',
      experiment: [1.695, -0.344, 0.542, -0.901, -0.29, -0.842, 0.765],
      control: [-1.267, 0.271, 0.157, -0.187, -2.517, -0.539, -0.049, 0.113],
      confidence: 0.95,
      u: 34,
      p: 0.5244497218060843,
      shift: 0.427,
      ci: [-0.615, 1.744],
    },
    {
      what: 'continuous, clearly shifted (98 %)',
      experiment: [1.23, 2.56, 2.42, 0.69, 0.9, 0.67, 1.77, 1.14, 1.95, -0.65, 2.77, 1.1, 1.88, 1.06, 0.82],
      control: [0.46, 0.82, -0.2, -0.15, 0.69, -0.87, -1.51, 0.39, -0.67, -1.92, -0.81, -0.47, -1.19, -1.49, 0.04, 0.9, -0.23, -0.74],
      confidence: 0.98,
      u: 252.5,
      p: 2.3244302244942785e-5,
      shift: 1.755,
      ci: [0.98, 2.58],
    },
    {
      what: 'integers, shifted, ties (98 %)',
      experiment: [19, 18, 13, 14, 12, 11, 18, 16, 10, 12, 15, 19, 19, 12, 16, 10, 11, 12, 14, 13, 17, 14, 13, 19, 16],
      control: [13, 13, 10, 15, 8, 10, 9, 8, 15, 8, 11, 14, 13, 14, 8, 11, 8, 9, 14, 8, 12, 8, 10, 15, 10, 10, 8, 14, 9, 11],
      confidence: 0.98,
      u: 608,
      p: 7.769289294383818e-5,
      shift: 4,
      ci: [2, 5],
    },
  ])('agrees with scipy and a brute-force interval: $what', ({ experiment, control, confidence, u, p, shift, ci }) => {
    const r = mannWhitney(control, experiment, { confidence });
    expect(r.u).toBe(u);
    expect(r.pValue).toBeCloseTo(p, 12);
    expect(r.estimate).toBeCloseTo(shift, 12);
    expect(r.lower).toBeCloseTo(ci[0] as number, 9);
    expect(r.upper).toBeCloseTo(ci[1] as number, 9);
  });

  it('the interval holds the estimate, and narrows as samples grow', () => {
    const lcg = (seed: number) => () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const rnd = lcg(42);
    const draw = (n: number, shift: number) => Array.from({ length: n }, () => 50 + shift + 20 * (rnd() + rnd() + rnd() - 1.5));
    let previousWidth = Number.POSITIVE_INFINITY;
    for (const n of [20, 200, 2000]) {
      const r = mannWhitney(draw(n, 0), draw(n, 3), { confidence: 0.98 });
      expect(r.lower, `n=${n}`).toBeLessThanOrEqual(r.estimate);
      expect(r.upper, `n=${n}`).toBeGreaterThanOrEqual(r.estimate);
      expect(r.upper - r.lower, `n=${n}`).toBeLessThan(previousWidth);
      previousWidth = r.upper - r.lower;
    }
  });

  it('a sample shifted by a constant gives exactly that shift, with an interval around it', () => {
    // The differences (c_i + 10) − c_j are 10 plus a multiset symmetric around 0: median 10.
    const control = Array.from({ length: 301 }, (_, i) => (i * 7919) % 1000);
    const experiment = control.map((v) => v + 10);
    const r = mannWhitney(control, experiment, { confidence: 0.98 });
    expect(r.estimate).toBe(10);
    expect(r.lower).toBeLessThan(10);
    expect(r.upper).toBeGreaterThan(10);
    // U counts experiment-over-control pairs; a positive shift puts it above n·m/2.
    expect(r.u).toBeGreaterThan((301 * 301) / 2);
  });

  it('identical samples: U at its mean, p = 1, shift 0', () => {
    const r = mannWhitney([1, 2, 3, 4], [4, 3, 2, 1], { confidence: 0.98 });
    expect(r.u).toBe(8);
    expect(r.pValue).toBe(1);
    expect(r.estimate).toBe(0);
  });

  it('the median of pairwise differences averages the two middle ones when their count is even', () => {
    // x − y over x = {0, 10}, y = {0, 1}: 0, −1, 10, 9 → sorted −1 0 9 10 → (0 + 9)/2.
    expect(hodgesLehmann(sortedCopy([0, 10]), sortedCopy([0, 1]))).toBe(4.5);
  });

  it('refuses empty samples and a confidence outside (0, 1)', () => {
    expect(() => mannWhitney([], [1], { confidence: 0.98 })).toThrow(/both sides/);
    expect(() => mannWhitney([1], [2], { confidence: 1 })).toThrow(/confidence/);
  });
});
