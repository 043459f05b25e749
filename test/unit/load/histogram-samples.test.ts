import { describe, expect, it } from 'vitest';
import { LatencyHistogram, mergeEncoded } from '../../../src/load/histogram.ts';
import { SampleSink, redactMessage, statusClassOf, type Sample } from '../../../src/load/samples.ts';

// 3 significant digits: any value is within 0.1% of the truth.
const close = (actual: number, expected: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.001 + 0.001);
};

describe('LatencyHistogram', () => {
  it('gives percentiles of known values within HDR precision', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.recordMs(i / 10); // 0.1 ms … 1000 ms, uniform
    expect(h.count).toBe(10_000);
    close(h.percentileMs(50), 500);
    close(h.percentileMs(90), 900);
    close(h.percentileMs(99), 990);
    close(h.maxMs, 1000);
    close(h.minMs, 0.1);
    close(h.meanMs, 500.05);
    const s = h.stats();
    close(s.p95Ms, 950);
  });

  it('keeps µs resolution at the bottom and clamps (and counts) values above one hour', () => {
    const h = new LatencyHistogram();
    h.recordMs(0.0004); // below 1 µs → recorded as 1 µs
    h.recordMs(0.25);
    h.recordMs(2 * 3_600_000);
    h.recordMs(Number.NaN); // ignored
    expect(h.count).toBe(3);
    expect(h.minMs).toBeCloseTo(0.001, 6);
    expect(h.clamped).toBe(1);
    close(h.maxMs, 3_600_000);
  });

  it('merges exactly and round-trips through the compressed base64 encoding', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) a.recordMs(5 + (i % 10));
    for (let i = 0; i < 10; i++) b.recordMs(2000);
    const enc = a.encode();
    expect(enc).toMatch(/^[A-Za-z0-9+/=]+$/);
    const back = LatencyHistogram.decode(enc);
    expect(back.count).toBe(1000);
    expect(back.percentileMs(50)).toBe(a.percentileMs(50));
    expect(back.percentileMs(99)).toBe(a.percentileMs(99));
    const merged = mergeEncoded([a.encode(), b.encode()]);
    expect(merged.count).toBe(1010);
    close(merged.maxMs, 2000);
    close(merged.percentileMs(99.5), 2000); // the top 10 of 1010 are the 2 s values
    a.merge(b);
    expect(a.count).toBe(1010);
    expect(a.percentileMs(99.5)).toBe(merged.percentileMs(99.5));
  });
});

describe('SampleSink', () => {
  const sample = (over: Partial<Sample['tags']>, latencyMs: number, ok = true, intendedStart?: number): Sample => ({
    tags: { scenario: 'sc', step: 'read', method: 'GET', status_class: '2xx', ...over },
    latencyMs,
    ok,
    ...(intendedStart === undefined ? {} : { intendedStart }),
  });

  it('classifies statuses', () => {
    expect([200, 204, 301, 404, 429, 500, 503, 0, undefined].map(statusClassOf)).toEqual([
      '2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx', 'error', 'error',
    ]);
  });

  it('summarises per tag-set, per scenario/step and per scenario, with error rate over requests', () => {
    const sink = new SampleSink();
    for (let i = 0; i < 90; i++) sink.record(sample({}, 10));
    for (let i = 0; i < 10; i++) sink.record(sample({ status_class: '5xx' }, 100, false));
    for (let i = 0; i < 50; i++) sink.record(sample({ step: 'write', method: 'POST' }, 20, true, 123));
    sink.record(sample({ step: 'write', method: 'POST', status_class: 'error' }, Number.NaN, false));
    sink.iterationEnded('sc', 'completed');
    sink.iterationEnded('sc', 'failed', new Error('boom Authorization: Bearer abc.def.ghi'));
    sink.droppedIteration('sc', 3);

    const s = sink.summary();
    expect(s.totals).toMatchObject({ requests: 151, errors: 11, errorRateOf: 'requests', completed: 1, failed: 1, dropped: 3 });
    expect(s.totals.errorRate).toBeCloseTo(11 / 151, 10);
    expect(s.tagSets).toHaveLength(4);
    const t5 = s.tagSets.find((t) => t.tags.status_class === '5xx');
    expect(t5).toMatchObject({ count: 10, errors: 10, errorRate: 1, latencySamples: 10, latencyFrom: 'actual-send' });
    const read = s.steps.find((x) => x.step === 'read');
    expect(read).toMatchObject({ scenario: 'sc', count: 100, errors: 10, errorRate: 0.1 });
    close(read?.p50Ms ?? -1, 10);
    close(read?.p95Ms ?? -1, 100);
    const write = s.steps.find((x) => x.step === 'write');
    expect(write).toMatchObject({ count: 51, errors: 1, latencySamples: 50, latencyFrom: 'intended-start' });
    const sc = s.scenarios[0];
    expect(sc).toMatchObject({ scenario: 'sc', count: 151, latencySamples: 150, latencyFrom: 'mixed', dropped: 3 });
    expect(LatencyHistogram.decode(sc?.histogram ?? '').count).toBe(150);
    expect(JSON.stringify(s)).not.toContain('abc.def.ghi');
    expect(sc?.errorMessages[0]?.message).toContain('[redacted]');
  });

  it('rolls per-second buckets, zero-fills silent seconds and keeps no raw samples', () => {
    let now = 1_700_000_000_000;
    const sink = new SampleSink({ now: () => now });
    for (let i = 1; i <= 100; i++) sink.record(sample({}, i, i % 10 !== 0)); // second 0: 1..100 ms, 10 errors
    now += 1000;
    sink.record(sample({}, 7));
    now += 3000; // two silent seconds, then one more sample
    sink.record(sample({ scenario: 'other' }, 9));
    sink.tick();
    const all = sink.buckets(undefined, false);
    expect(all.map((b) => b.t)).toEqual([1_700_000_000, 1_700_000_001, 1_700_000_002, 1_700_000_003]);
    expect(all.map((b) => b.count)).toEqual([100, 1, 0, 0]);
    expect(all[0]?.errors).toBe(10);
    expect(all[0]?.p50).toBeCloseTo(50, 0);
    expect(all[0]?.p99).toBeCloseTo(99, 0);
    expect(all[0]?.max).toBeCloseTo(100, 0);
    expect(all[2]).toEqual({ t: 1_700_000_002, count: 0, errors: 0, p50: null, p95: null, p99: null, max: null });
    // The open second shows up only when asked for.
    expect(sink.buckets(undefined, true).at(-1)).toMatchObject({ t: 1_700_000_004, count: 1 });
    expect(sink.buckets('sc', false).map((b) => b.count)).toEqual([100, 1, 0, 0]);
    expect(sink.progress('sc')).toMatchObject({ requests: 101, errors: 10 });

    // 20,000 seconds of samples: buckets grow by one small entry per second, nothing per sample.
    for (let sec = 0; sec < 20_000; sec++) {
      now += 1000;
      for (let k = 0; k < 5; k++) sink.record(sample({}, 5 + k));
    }
    sink.tick();
    const series = sink.buckets('sc', false);
    expect(series.length).toBeGreaterThan(20_000);
    expect(series.at(-1)).toMatchObject({ count: 5 });
  });

  it('redacts credentials in messages', () => {
    expect(redactMessage('401 for Bearer s3cr3t-token')).toBe('401 for Bearer [redacted]');
    expect(redactMessage('{"token":"abc123","x":1}')).not.toContain('abc123');
    expect(redactMessage('password=hunter2 ok')).not.toContain('hunter2');
  });
});
