// Outlier removal for one side of a metric: Tukey's IQR fences, made less eager the way the
// canary judge does it — a fence never cuts inside the 1st/99th percentile, so a long but
// well-populated tail is kept and only values beyond both the IQR fence and that percentile go.

/** Percentile p (0–100) of ascending values, linear interpolation between order statistics. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * (p / 100);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

export interface Fences {
  lower: number;
  upper: number;
}

export function outlierFences(sorted: ArrayLike<number>, factor: number): Fences {
  const q1 = percentileSorted(sorted, 25);
  const q3 = percentileSorted(sorted, 75);
  const iqr = q3 - q1;
  return {
    lower: Math.min(percentileSorted(sorted, 1), q1 - factor * iqr),
    upper: Math.max(percentileSorted(sorted, 99), q3 + factor * iqr),
  };
}

/** The ascending values inside the fences (a sub-view, no copy: outliers sit at the ends). */
export function removeOutliers(sorted: Float64Array, factor: number): Float64Array {
  if (sorted.length === 0) return sorted;
  const { lower, upper } = outlierFences(sorted, factor);
  let start = 0;
  let end = sorted.length;
  while (start < end && (sorted[start] as number) < lower) start += 1;
  while (end > start && (sorted[end - 1] as number) > upper) end -= 1;
  return sorted.subarray(start, end);
}
