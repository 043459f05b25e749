// Is the new run's error rate higher than the baseline's by more than chance would give?
//
// One-sided Fisher exact test on the 2×2 table (errors / successes × baseline / new): given
// both runs' request counts and the total number of errors, how likely is it that the new run
// got at least as many of those errors as it did, if both runs fail at the same rate?
//
// Why not the judge on 0/1 samples: the Hodges–Lehmann shift of two 0/1 samples is the median of
// differences in {−1, 0, 1}, which is 0 whenever fewer than half the requests fail, so the
// interval sits on 0, the tolerance band is 0 wide, and the judge cannot tell 0.1 % from 10 %.
// Why not the two-proportion z-test: error rates are rare events, where its normal
// approximation is anti-conservative. 0 errors against 5 in 5,000 requests each gives a one-sided
// z-test p of 0.013 — a "regression" at 98 % — while the exact probability of 5 of 5 errors
// landing on one side by chance is 0.031. The exact test needs no approximation and costs one
// pass over at most (total errors + 1) terms.

export interface ErrorRateTest {
  baseline: { requests: number; errors: number; rate: number };
  next: { requests: number; errors: number; rate: number };
  /** P(new run gets ≥ its errors | both rates equal), Fisher exact, one-sided. */
  pValue: number;
}

/** log(exp(a) + exp(b)) without overflow. */
function logAdd(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
}

/** One-sided (new > baseline) Fisher exact p-value for errors/requests in two runs. */
export function fisherGreater(baseErrors: number, baseRequests: number, nextErrors: number, nextRequests: number): number {
  for (const [v, what] of [
    [baseErrors, 'baseline errors'],
    [baseRequests, 'baseline requests'],
    [nextErrors, 'new errors'],
    [nextRequests, 'new requests'],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${what} must be a non-negative integer, got ${v}`);
  }
  if (baseErrors > baseRequests || nextErrors > nextRequests) throw new RangeError('more errors than requests');
  const total = baseRequests + nextRequests;
  const errors = baseErrors + nextErrors;
  // X = errors that fell in the new run: hypergeometric over [lo, hi].
  const lo = Math.max(0, errors - baseRequests);
  const hi = Math.min(errors, nextRequests);
  // Weights relative to x = lo from the ratio of consecutive terms, in logs:
  // P(x+1)/P(x) = (errors − x)(nextRequests − x) / ((x + 1)(total − errors − nextRequests + x + 1)).
  let logW = 0;
  let logAll = Number.NEGATIVE_INFINITY;
  let logTail = Number.NEGATIVE_INFINITY;
  for (let x = lo; x <= hi; x++) {
    logAll = logAdd(logAll, logW);
    if (x >= nextErrors) logTail = logAdd(logTail, logW);
    if (x < hi) logW += Math.log(errors - x) + Math.log(nextRequests - x) - Math.log(x + 1) - Math.log(total - errors - nextRequests + x + 1);
  }
  return Math.min(1, Math.exp(logTail - logAll));
}

export function errorRateTest(base: { requests: number; errors: number }, next: { requests: number; errors: number }): ErrorRateTest {
  return {
    baseline: { ...base, rate: base.errors / base.requests },
    next: { ...next, rate: next.errors / next.requests },
    pValue: fisherGreater(base.errors, base.requests, next.errors, next.requests),
  };
}
