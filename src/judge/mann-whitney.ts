// Two-sided Mann–Whitney U (Wilcoxon rank-sum) test of experiment against control, with the
// Hodges–Lehmann estimate of the location shift (experiment − control) and its confidence
// interval, the way the canary judge needs them.
//
// Nothing here enumerates the n·m pairwise differences. Both inputs are sorted once; after that
// every question the test asks is one merge-like pass over the two sorted arrays, O(n + m):
//   - the rank statistic of (experiment − μ) against control, with mid-ranks for ties and the
//     tie term of the variance, at any shift μ (shifting a sorted array keeps it sorted);
//   - how many pairwise differences are ≤ d, the largest of those, and the smallest above d.
// The Hodges–Lehmann estimate is the exact median of the pairwise differences, found by a
// bracketed search on the value with those counts. The interval bounds are the shifts at which
// the standardized statistic (normal approximation, tie correction, continuity correction)
// crosses ±z(1 − α/2), found by a bracketed search too (secant guesses alternating with halving,
// to a relative tolerance of 1e-10 of the shift range) and then snapped to the pairwise
// difference where the step-shaped statistic jumps. A bracket cannot wander off, unlike an open
// solver on a step function. A 50,000 × 50,000 comparison costs a few dozen passes over 100,000
// numbers, not 2.5 billion differences (bench/judge.ts).
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

export interface MannWhitneyResult {
  /** Samples in each side. */
  n: { control: number; experiment: number };
  /** U of the experiment: pairs (e, c) with e > c, ties counting one half. 0 … n·m. */
  u: number;
  /** Two-sided p-value, normal approximation with tie and continuity correction. */
  pValue: number;
  /** Hodges–Lehmann shift: the median of all differences experiment − control. */
  estimate: number;
  /** Confidence interval of the shift. */
  lower: number;
  upper: number;
  confidence: number;
}

/** Bisection stops when the bracket is narrower than this fraction of the shift range. */
export const ROOT_REL_TOLERANCE = 1e-10;
const MAX_STEPS = 400;

/** Ascending copy as a typed array (numeric sort, no comparator). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

interface RankStat {
  /** U of the shifted experiment minus its mean n·m/2. */
  centred: number;
  /** Σ (t³ − t) over groups of tied values in the pooled sample. */
  ties: number;
}

/** The rank statistic of (x − mu) against y, both sorted ascending, in one merge. */
function rankStat(x: Float64Array, y: Float64Array, mu: number): RankStat {
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let u = 0;
  let ties = 0;
  while (i < n || j < m) {
    const xv = i < n ? (x[i] as number) - mu : Number.POSITIVE_INFINITY;
    const yv = j < m ? (y[j] as number) : Number.POSITIVE_INFINITY;
    const v = xv < yv ? xv : yv;
    const below = j; // y values strictly below v
    let cx = 0;
    while (i < n && (x[i] as number) - mu === v) {
      cx += 1;
      i += 1;
    }
    let cy = 0;
    while (j < m && y[j] === v) {
      cy += 1;
      j += 1;
    }
    u += cx * below + 0.5 * cx * cy;
    const t = cx + cy;
    if (t > 1) ties += t * t * t - t;
  }
  return { centred: u - (n * m) / 2, ties };
}

function sigma(n: number, m: number, ties: number): number {
  const total = n + m;
  return Math.sqrt(((n * m) / 12) * (total + 1 - ties / (total * (total - 1))));
}

/** Standardized statistic with continuity correction; 0 when every value is tied. */
function standardize({ centred, ties }: RankStat, n: number, m: number): number {
  const s = sigma(n, m, ties);
  return s === 0 ? 0 : (centred - 0.5 * Math.sign(centred)) / s;
}

const zAt = (x: Float64Array, y: Float64Array, mu: number): number => standardize(rankStat(x, y, mu), x.length, y.length);

interface DiffCount {
  /** Pairs with x[i] − y[j] ≤ d. */
  count: number;
  /** The largest difference ≤ d (−∞ if none). */
  atMost: number;
  /** The smallest difference > d (+∞ if none). */
  above: number;
}

/** Where d falls among all differences x[i] − y[j], in one pass. */
function diffCount(x: Float64Array, y: Float64Array, d: number): DiffCount {
  const m = y.length;
  let count = 0;
  let atMost = Number.NEGATIVE_INFINITY;
  let above = Number.POSITIVE_INFINITY;
  // For fixed i, x[i] − y[j] falls as j rises, so the pairs with a difference ≤ d are a suffix
  // j ≥ p; as x[i] rises p can only move right. The same subtraction is used for every
  // comparison and every reported difference, so the three figures agree in floating point.
  let p = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    while (p < m && xi - (y[p] as number) > d) p += 1;
    count += m - p;
    if (p < m) {
      const le = xi - (y[p] as number);
      if (le > atMost) atMost = le;
    }
    if (p > 0) {
      const gt = xi - (y[p - 1] as number);
      if (gt < above) above = gt;
    }
  }
  return { count, atMost, above };
}

/** The k-th smallest (1-based) of all differences x[i] − y[j]. */
function kthDifference(x: Float64Array, y: Float64Array, k: number): number {
  const n = x.length;
  const m = y.length;
  const first = (x[0] as number) - (y[m - 1] as number);
  let lo = diffCount(x, y, first);
  if (lo.count >= k) return first;
  let loValue = first;
  let hiValue = (x[n - 1] as number) - (y[0] as number);
  let hi = diffCount(x, y, hiValue);
  // Invariant: count(lo) < k ≤ count(hi), so the answer lies in (lo, hi]. Once the smallest
  // difference above lo is also the largest at or below hi, it is the only one there: the answer.
  for (let step = 0; step < MAX_STEPS; step++) {
    if (lo.above === hi.atMost) return hi.atMost;
    // Alternate a guess from the counts (the differences' CDF is smooth for continuous data, so
    // it lands close) with plain halving, which bounds the worst case.
    const share = step % 2 === 0 ? (k - lo.count) / (hi.count - lo.count) : 0.5;
    const mid = loValue + (hiValue - loValue) * share;
    if (!(mid > loValue && mid < hiValue)) {
      if (share === 0.5) break;
      continue;
    }
    const at = diffCount(x, y, mid);
    if (at.count >= k) {
      hi = at;
      hiValue = mid;
    } else {
      lo = at;
      loValue = mid;
    }
  }
  return hi.atMost;
}

/** Median of all pairwise differences x[i] − y[j] (the Hodges–Lehmann shift). */
export function hodgesLehmann(xSorted: Float64Array, ySorted: Float64Array): number {
  const pairs = xSorted.length * ySorted.length;
  if (pairs === 0) throw new RangeError('Hodges–Lehmann estimate of an empty sample');
  const half = Math.floor(pairs / 2);
  if (pairs % 2 === 1) return kthDifference(xSorted, ySorted, half + 1);
  const a = kthDifference(xSorted, ySorted, half);
  const at = diffCount(xSorted, ySorted, a);
  const b = at.count >= half + 1 ? a : at.above;
  return (a + b) / 2;
}

/**
 * The shift μ at which z(μ) crosses q. z falls as μ rises; when it is already at or below q at
 * the smallest possible shift (or still above it at the largest), the range end is the answer,
 * as in the usual implementation of this interval.
 */
function crossing(x: Float64Array, y: Float64Array, q: number, muMin: number, muMax: number): number {
  let fLo = zAt(x, y, muMin) - q;
  if (fLo <= 0) return muMin;
  let fHi = zAt(x, y, muMax) - q;
  if (fHi >= 0) return muMax;
  let lo = muMin;
  let hi = muMax;
  const tol = ROOT_REL_TOLERANCE * Math.max(muMax - muMin, Math.abs(muMin), Math.abs(muMax), Number.MIN_VALUE);
  for (let step = 0; step < MAX_STEPS && hi - lo > tol; step++) {
    // Alternate a secant guess (z is close to linear in μ near the root when samples are large)
    // with plain halving, which bounds the worst case.
    const share = step % 2 === 0 ? fLo / (fLo - fHi) : 0.5;
    const mid = lo + (hi - lo) * share;
    if (!(mid > lo && mid < hi)) {
      if (share === 0.5) break;
      continue;
    }
    const f = zAt(x, y, mid) - q;
    if (f > 0) {
      lo = mid;
      fLo = f;
    } else if (f < 0) {
      hi = mid;
      fHi = f;
    } else return mid;
  }
  // The jump sits at a pairwise difference inside (lo, hi]: report that value, not the last
  // guess, so equal inputs give equal, exact bounds.
  const { above } = diffCount(x, y, lo);
  return above <= hi ? above : lo + (hi - lo) / 2;
}

/**
 * Mann–Whitney test of `experiment` against `control`. Both must be non-empty and finite (the
 * classifier's pre-checks see to that). `sorted` skips the copy-and-sort when the caller has
 * sorted arrays already.
 */
export function mannWhitney(
  control: ArrayLike<number>,
  experiment: ArrayLike<number>,
  opts: { confidence: number; sorted?: boolean },
): MannWhitneyResult {
  const { confidence } = opts;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const y = opts.sorted && control instanceof Float64Array ? control : sortedCopy(control);
  const x = opts.sorted && experiment instanceof Float64Array ? experiment : sortedCopy(experiment);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) throw new RangeError('Mann–Whitney test needs samples on both sides');

  const at0 = rankStat(x, y, 0);
  const pValue = Math.min(1, 2 * normalCdf(-Math.abs(standardize(at0, n, m)), 0, 1));

  const muMin = (x[0] as number) - (y[m - 1] as number);
  const muMax = (x[n - 1] as number) - (y[0] as number);
  const zq = normalQuantile(1 - (1 - confidence) / 2, 0, 1);
  return {
    n: { control: m, experiment: n },
    u: at0.centred + (n * m) / 2,
    pValue,
    estimate: hodgesLehmann(x, y),
    lower: crossing(x, y, zq, muMin, muMax),
    upper: crossing(x, y, -zq, muMin, muMax),
    confidence,
  };
}
