import { describe, expect, it } from 'vitest';
import { ProbeTrack, windowSummary } from '../../../src/chaos/hypothesis.ts';
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

  const probe = (tolerance: number): Probe => ({ name: 'p95', phases: ['during'], tolerance, client: { scenario: 'all', metric: 'latency', expr: 'p(95)<1000ms', window: 3_000 } });

  it('during: deviates only after more than `tolerance` failing checks in a row', () => {
    const tr = new ProbeTrack(probe(2), 'during');
    for (const [i, ok] of [true, false, false, true, false, false].entries()) tr.add({ ok, observed: ok ? 100 : 1500, detail: ok ? 'fine' : 'slow' }, i);
    expect(tr.verdict()).toBe('pass');
    tr.add({ ok: false, observed: 2500, detail: 'slower' }, 6);
    expect(tr.verdict()).toBe('fail');
    const r = tr.result();
    expect(r.name).toBe('p95 (during)');
    expect(r.observed).toBe(2500);
    expect(r.detail).toMatch(/deviated at 6\.0 s: 3 failing checks in a row \(tolerance 2\)/);
    expect(r.unit).toBe('ms');
  });

  it('no data never passes: all checks without data → no_data', () => {
    const tr = new ProbeTrack(probe(0), 'before');
    tr.add({ ok: null, observed: null, detail: 'no samples' }, 0);
    expect(tr.verdict()).toBe('no_data');
    expect(tr.result().verdict).toBe('no_data');
  });

  it('before/after allow no failing check', () => {
    const tr = new ProbeTrack(probe(5), 'after');
    tr.add({ ok: false, observed: 2000, detail: 'slow' }, 0);
    expect(tr.verdict()).toBe('fail');
  });
});
