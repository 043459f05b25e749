import { describe, expect, it } from 'vitest';
import { histogramSamples, keptBefore } from '../../../src/judge/samples.ts';
import { LatencyHistogram } from '../../../src/load/histogram.ts';
import { percentileSorted } from '../../../src/judge/outliers.ts';
import { uniform } from './helpers.ts';

describe('proportional thinning', () => {
  it('keeps evenly spaced samples, by hand on 1…10 µs with a cap of 5', () => {
    // Sample i (0-based, ascending) is kept when ⌊(i+1)·5/10⌋ > ⌊i·5/10⌋: i = 1, 3, 5, 7, 9,
    // the values 2, 4, 6, 8, 10 µs (exact: below 2048 µs every microsecond is its own bucket).
    const h = new LatencyHistogram();
    for (let us = 1; us <= 10; us++) h.recordUs(us);
    const s = histogramSamples(h, 5);
    expect([...s.values]).toEqual([0.002, 0.004, 0.006, 0.008, 0.01]);
    expect(s).toMatchObject({ recorded: 10, thinned: true });
  });

  it('counts exactly', () => {
    expect(keptBefore(7, 7, 10)).toBe(7);
    expect(keptBefore(1_000_000, 1_000_000, 1000)).toBe(1000);
    expect(keptBefore(500_000, 1_000_000, 1000)).toBe(500);
  });
});

describe('histogram → samples', () => {
  it('repeats each recorded value by its count, in ms, ascending', () => {
    const h = new LatencyHistogram();
    for (const ms of [2, 1, 1, 1, 2, 5]) h.recordMs(ms);
    const s = histogramSamples(h);
    // Below 2048 µs every microsecond has its own bucket; 5000 µs sits in a bucket 4 µs wide
    // (4096–8191 µs at 3 significant digits), reported as its top, 5003 µs, as the histogram's
    // percentiles report it.
    expect([...s.values]).toEqual([1, 1, 1, 2, 2, 5.003]);
    expect(h.percentileMs(100)).toBe(5.003);
    expect(s).toMatchObject({ recorded: 6, thinned: false });
  });

  it('reads encoded histograms, one or several merged', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.recordMs(1);
    b.recordMs(3);
    b.recordMs(3);
    expect([...histogramSamples(a.encode()).values]).toEqual([1]);
    // 3000 µs: a 2 µs bucket (2048–4095 µs), reported as 3001 µs.
    expect([...histogramSamples([a.encode(), b.encode()]).values]).toEqual([1, 3.001, 3.001]);
  });

  it('an empty histogram gives no samples (the judge then says Nodata)', () => {
    expect(histogramSamples(new LatencyHistogram())).toMatchObject({ recorded: 0, thinned: false });
    expect(histogramSamples(new LatencyHistogram()).values.length).toBe(0);
  });

  it('percentiles of the vector are the histogram’s own', () => {
    const r = uniform(5);
    const h = new LatencyHistogram();
    for (let i = 0; i < 5000; i++) h.recordMs(20 + 200 * r() * r());
    const s = histogramSamples(h);
    expect(s.values.length).toBe(5000);
    // The histogram's percentile p is the smallest recorded value with at least p % of the count
    // at or below it: the ⌈p·n⌉-th sample.
    for (const p of [50, 90, 99]) expect(s.values[Math.ceil((p / 100) * 5000) - 1], `p${p}`).toBe(h.percentileMs(p));
  });

  it('above the cap it thins proportionally and deterministically, and says so', () => {
    const r = uniform(9);
    const h = new LatencyHistogram();
    for (let i = 0; i < 50_000; i++) h.recordMs(10 + 90 * r());
    const s = histogramSamples(h, 1000);
    expect(s).toMatchObject({ recorded: 50_000, thinned: true });
    expect(s.values.length).toBe(1000);
    // Every stretch of the order keeps its share, so quantiles move by at most a bucket or two.
    for (const p of [10, 50, 90]) expect(Math.abs(percentileSorted(s.values, p) - h.percentileMs(p)), `p${p}`).toBeLessThan(0.5);
    expect([...histogramSamples(h, 1000).values]).toEqual([...s.values]);
  });

  it('refuses a cap that is not a positive integer', () => {
    expect(() => histogramSamples(new LatencyHistogram(), 0)).toThrow(/positive integer/);
  });
});
