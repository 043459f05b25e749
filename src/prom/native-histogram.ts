// Prometheus native histograms as the HTTP API renders them (`histogram` / `histograms` in query
// answers): a count, a sum and buckets given by their boundaries. Histograms written with the same
// schema share bucket boundaries, so several of them (one per k6 runner, one per tag set) add up
// bucket by bucket exactly; a percentile is then as good as the bucket it falls in, never better.
import { z } from 'zod';

/** Prometheus renders every number of a histogram as a string. */
const Num = z.string().transform((s, ctx) => {
  const n = s === '+Inf' || s === 'Inf' ? Number.POSITIVE_INFINITY : s === '-Inf' ? Number.NEGATIVE_INFINITY : Number(s);
  if (s.trim() === '' || Number.isNaN(n)) {
    ctx.addIssue({ code: 'custom', message: `not a number: ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  return n;
});

/**
 * One bucket: `[boundaryRule, lower, upper, count]`. The rule says which ends are inside
 * (0: lower open, upper closed — the usual positive bucket; 1: lower closed, upper open;
 * 2: both open; 3: both closed — the zero bucket).
 */
const BucketWire = z.tuple([z.number().int().min(0).max(3), Num, Num, Num]);
export const NativeHistogramWire = z.object({ count: Num, sum: Num, buckets: z.array(BucketWire).optional() });
/** A matrix point carrying a histogram: `[unixSeconds, histogram]`. */
export const HistogramPointWire = z.tuple([z.number(), NativeHistogramWire]);

export interface NativeBucket {
  boundaryRule: number;
  lower: number;
  upper: number;
  count: number;
}

export interface NativeHistogram {
  count: number;
  sum: number;
  buckets: NativeBucket[];
}

export interface HistogramPoint {
  /** Unix seconds. */
  t: number;
  h: NativeHistogram;
}

export function histogramOf(w: z.output<typeof NativeHistogramWire>): NativeHistogram {
  return { count: w.count, sum: w.sum, buckets: (w.buckets ?? []).map(([boundaryRule, lower, upper, count]) => ({ boundaryRule, lower, upper, count })) };
}

export class HistogramMergeError extends Error {}

const keyOf = (b: NativeBucket): string => `${b.boundaryRule}:${b.lower}:${b.upper}`;

/**
 * Histograms of the same schema added up bucket by bucket. Buckets of different schemas overlap
 * without coinciding; adding those would need re-bucketing, which loses exactness, so it throws.
 */
export function mergeNative(hs: readonly NativeHistogram[]): NativeHistogram {
  const byKey = new Map<string, NativeBucket>();
  let count = 0;
  let sum = 0;
  for (const h of hs) {
    count += h.count;
    sum += h.sum;
    for (const b of h.buckets) {
      const k = keyOf(b);
      const have = byKey.get(k);
      if (have) have.count += b.count;
      else byKey.set(k, { ...b });
    }
  }
  const buckets = [...byKey.values()].sort((a, b) => a.lower - b.lower || a.upper - b.upper);
  for (let i = 1; i < buckets.length; i++) {
    const prev = buckets[i - 1] as NativeBucket;
    const cur = buckets[i] as NativeBucket;
    if (cur.lower < prev.upper) {
      throw new HistogramMergeError(`buckets (${prev.lower}, ${prev.upper}] and (${cur.lower}, ${cur.upper}] overlap: the histograms were written with different schemas`);
    }
  }
  return { count, sum, buckets };
}

/**
 * The widest relative width of a populated bucket (upper / lower − 1): how far a percentile read
 * from this histogram can be from the true one. Schema 3 (k6's bucket factor 1.1) gives 0.09.
 */
export function relativeBucketWidth(h: NativeHistogram): number {
  let widest = 0;
  for (const b of h.buckets) if (b.count > 0 && b.lower > 0 && Number.isFinite(b.upper)) widest = Math.max(widest, b.upper / b.lower - 1);
  return widest;
}

/**
 * Points spread evenly inside each bucket, with their counts, to record into another histogram
 * (an HDR one): at most `perBucket` points a bucket, counts split so they add up to the bucket's.
 * The spread is the linear interpolation Prometheus's histogram_quantile also assumes.
 */
export function* spreadPoints(h: NativeHistogram, perBucket = 16): Generator<{ value: number; count: number }> {
  for (const b of h.buckets) {
    const n = Math.round(b.count);
    if (n <= 0) continue;
    const lower = Math.max(0, b.lower);
    const upper = Number.isFinite(b.upper) ? b.upper : lower;
    const k = Math.min(perBucket, n);
    const base = Math.floor(n / k);
    let extra = n - base * k;
    for (let i = 0; i < k; i++) {
      const c = base + (extra > 0 ? 1 : 0);
      if (extra > 0) extra -= 1;
      yield { value: lower + ((i + 0.5) / k) * (upper - lower), count: c };
    }
  }
}
