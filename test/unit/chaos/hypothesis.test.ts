import { describe, expect, it } from 'vitest';
import { probeResult, tracksFor, windowSummary, type ProbeTrack } from '../../../src/chaos/hypothesis.ts';
import { phaseOf } from '../../../src/score/track.ts';
import type { Probe } from '../../../src/chaos/schema.ts';
import type { SecondBucket } from '../../../src/load/samples.ts';

const b = (t: number, count: number, errors: number, p95: number | null): SecondBucket => ({ t, count, errors, p50: p95, p95, p99: p95, max: p95 });

describe('hypothesis', () => {
  it('a window summary counts the last seconds and takes the worst second for percentiles', () => {
    // now = second 1000: the window holds seconds 997…1000.
    const t = 1_000_000;
    const w = windowSummary([b(990, 10, 0, 5), b(997, 10, 1, 50), b(998, 10, 0, 900), b(999, 10, 3, 20), b(1000, 5, 0, 10)], 3_000, t);
    expect(w.samples).toBe(35);
    expect(w.errors).toBe(4);
    expect(w.rate).toBeCloseTo(4 / 35);
    expect(w.percentile?.(95)).toBe(900);
    expect(windowSummary([], 3_000, t).samples).toBe(0);
  });

  const probe = (tolerance: number, phases: Probe['phases'] = ['before', 'during', 'after']): Probe => ({ name: 'p95', phases, tolerance, client: { scenario: 'all', metric: 'latency', expr: 'p(95)<1000ms', window: 3_000 } });
  const timing = { interval: 1_000, afterTimeout: 5_000 };
  const feed = (pt: ProbeTrack, checks: Array<boolean | null>, from = 0): void =>
    checks.forEach((ok, i) => pt.track.add({ phase: phaseOf(ok), value: ok === null ? null : ok ? 100 : 1500 + i, detail: ok === null ? 'no samples' : ok ? 'fine' : 'slow', at: (from + i) * 1000 }));
  const one = (p: Probe, phase: 'before' | 'during' | 'after') => tracksFor([p], phase, timing, 0)[0]!;

  it('during: deviates only after more than `tolerance` failing checks in a row', () => {
    const pt = one(probe(2), 'during');
    feed(pt, [true, false, false, true, false, false]);
    expect(pt.track.phase).toBe('Running');
    feed(pt, [false], 6);
    expect(pt.track.phase).toBe('Failed');
    const r = probeResult(pt);
    expect(r.name).toBe('p95 (during)');
    expect(r.verdict).toBe('fail');
    expect(r.observed).toBe(1505); // the worst (largest) latency seen, not the last
    expect(r.detail).toMatch(/3 failed measurements in a row > 2 tolerated/);
    expect(r.unit).toBe('ms');
  });

  it('during: a probe whose checks mostly measured nothing is inconclusive, not held (the old code passed it on one measured check)', () => {
    const pt = one(probe(0), 'during');
    // Never five no-data checks in a row, so the consecutive-error limit alone does not catch it.
    feed(pt, [true, null, null, null, null, true, null, null, null, null]);
    pt.track.terminate('method ended');
    const r = probeResult(pt);
    expect(r.verdict, r.detail).toBe('inconclusive');
    expect(r.detail).toMatch(/8 of 10 attempts measured nothing/);
  });

  it('before: no data never passes — retried twice, then no data', () => {
    const pt = one(probe(0), 'before');
    feed(pt, [null, null]);
    expect(pt.track.phase).toBe('Running');
    feed(pt, [null], 2);
    expect(pt.track.phase).toBe('Error');
    expect(probeResult(pt).verdict).toBe('no_data');
    const ok = one(probe(0), 'before');
    feed(ok, [null, true]);
    expect(probeResult(ok).verdict).toBe('pass');
  });

  it('after: polled until it holds; a failing check before that is not a failure, the deadline is', () => {
    const pt = one(probe(5), 'after');
    feed(pt, [false, false, true]);
    expect(probeResult(pt).verdict).toBe('pass');
    const never = one(probe(5), 'after');
    feed(never, [false, false, false, false, false, false]);
    const r = probeResult(never);
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/did not hold/);
  });

  it('the phase specs are valid tracks for every probe option', () => {
    for (const phase of ['before', 'during', 'after'] as const) for (const tol of [0, 4]) expect(() => one(probe(tol), phase)).not.toThrow();
  });
});
