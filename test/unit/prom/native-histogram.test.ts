// Native histograms read back from Prometheus: same-schema histograms add up bucket by bucket,
// different schemas are refused (adding them would not be exact), and spreading a bucket into
// points keeps every count.
import { describe, expect, it } from 'vitest';
import { HistogramMergeError, histogramOf, mergeNative, NativeHistogramWire, relativeBucketWidth, spreadPoints } from '../../../src/prom/native-histogram.ts';

const wire = (buckets: Array<[number, string, string, string]>, count: string, sum: string) => histogramOf(NativeHistogramWire.parse({ count, sum, buckets }));

describe('native histograms', () => {
  it('same schema: counts, sums and each bucket add up', () => {
    const a = wire([[0, '0.1', '0.10905077326652577', '3'], [0, '0.2', '0.2181015465330515', '1']], '4', '0.5');
    const b = wire([[0, '0.1', '0.10905077326652577', '2'], [0, '0.3', '0.3271523197995773', '5']], '7', '1.9');
    const m = mergeNative([a, b]);
    expect(m.count).toBe(11);
    expect(m.sum).toBeCloseTo(2.4, 12);
    expect(m.buckets.map((x) => [x.lower, x.count])).toEqual([[0.1, 5], [0.2, 1], [0.3, 5]]);
    expect(relativeBucketWidth(m)).toBeCloseTo(0.0905, 4);
  });

  it('overlapping buckets (different schemas) are refused, not re-bucketed', () => {
    const s3 = wire([[0, '0.1', '0.10905077326652577', '1']], '1', '0.1');
    const s2 = wire([[0, '0.1', '0.11892071150027211', '1']], '1', '0.1');
    expect(() => mergeNative([s3, s2])).toThrow(HistogramMergeError);
  });

  it('spreading keeps every count and stays inside each bucket', () => {
    const h = wire([[0, '1', '2', '37'], [0, '4', '8', '3'], [3, '0', '0', '2']], '42', '80');
    const pts = [...spreadPoints(h, 16)];
    expect(pts.reduce((a, p) => a + p.count, 0)).toBe(42);
    for (const p of pts) expect(p.value === 0 || (p.value > 1 && p.value < 2) || (p.value > 4 && p.value < 8)).toBe(true);
    expect(pts.filter((p) => p.value > 1 && p.value < 2)).toHaveLength(16);
  });

  it('a bad number in the wire shape is a parse error', () => {
    expect(NativeHistogramWire.safeParse({ count: 'x', sum: '1' }).success).toBe(false);
  });
});
