import { describe, expect, it } from 'vitest';
import { fisherGreater } from '../../../src/baseline/error-rate.ts';

describe('one-sided Fisher exact test on error counts', () => {
  // Expected values from scipy 1.17.1:
  // scipy.stats.fisher_exact([[next_errors, next_ok], [base_errors, base_ok]], alternative='greater').pvalue
  it.each([
    [0, 5000, 5, 5000, 0.03121875156406308],
    [2, 5000, 3, 5000, 0.5],
    [2, 5000, 40, 5000, 1.9150149802867425e-10],
    [10, 20000, 25, 20000, 0.008313562319026586],
    [3, 100, 0, 120, 1.0],
    [500, 1000, 560, 1000, 0.00409673051273016],
  ])('baseline %d/%d, new %d/%d → p = %s', (be, br, ne, nr, p) => {
    const got = fisherGreater(be, br, ne, nr);
    expect(Math.abs(got - p) / p, `got ${got}`).toBeLessThan(1e-9);
  });

  it('by hand: 0 → 1 error in 1 request each: the one error fell in the new run with chance ½', () => {
    expect(fisherGreater(0, 1, 1, 1)).toBeCloseTo(0.5, 15);
  });

  it('no errors anywhere: nothing to see, p = 1', () => {
    expect(fisherGreater(0, 100, 0, 100)).toBe(1);
  });

  it('refuses impossible counts', () => {
    expect(() => fisherGreater(5, 4, 0, 10)).toThrow(/more errors than requests/);
    expect(() => fisherGreater(-1, 4, 0, 10)).toThrow(/non-negative integer/);
    expect(() => fisherGreater(0, 4, 0.5, 10)).toThrow(/non-negative integer/);
  });
});
