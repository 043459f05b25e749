import { describe, expect, it } from 'vitest';
import { RecentWindow } from '../../../harness/gateway/recent.ts';

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RecentWindow', () => {
  it('reports zeros without traffic', () => {
    const s = new RecentWindow(60, clock().now).summary();
    expect(s).toMatchObject({ requests: 0, errors5xx: 0, rate5xx: 0, p99Ms: 0 });
  });

  it('computes the 5xx rate over all answers', () => {
    const c = clock();
    const w = new RecentWindow(60, c.now);
    for (let i = 0; i < 995; i++) w.record(200, 5);
    for (let i = 0; i < 5; i++) w.record(503, 5);
    w.record(404, 5);
    const s = w.summary();
    expect(s.requests).toBe(1001);
    expect(s.errors5xx).toBe(5);
    expect(s.rate5xx).toBeCloseTo(5 / 1001, 9);
  });

  it('P99 lands within one 5% bucket above the true value, never below', () => {
    const c = clock();
    const w = new RecentWindow(60, c.now);
    // 1..1000 ms spread over 10 seconds: true P99 is 990 ms.
    for (let i = 1; i <= 1000; i++) {
      w.record(200, i);
      if (i % 100 === 0) c.advance(1000);
    }
    const s = w.summary();
    expect(s.p99Ms).toBeGreaterThanOrEqual(990);
    expect(s.p99Ms).toBeLessThanOrEqual(990 * 1.05 + 0.1);
    expect(s.p50Ms).toBeGreaterThanOrEqual(500);
    expect(s.p50Ms).toBeLessThanOrEqual(500 * 1.05 + 0.1);
  });

  it('forgets seconds that slid out of the window', () => {
    const c = clock();
    const w = new RecentWindow(60, c.now);
    for (let i = 0; i < 10; i++) w.record(500, 400);
    c.advance(30_000);
    for (let i = 0; i < 10; i++) w.record(200, 10);
    expect(w.summary().requests).toBe(20);
    c.advance(31_000);
    const s = w.summary();
    expect(s.requests).toBe(10);
    expect(s.rate5xx).toBe(0);
    expect(s.p99Ms).toBeLessThan(11);
    c.advance(60_000);
    expect(w.summary().requests).toBe(0);
  });

  it('reuses a ring slot for a new second instead of adding to it', () => {
    const c = clock();
    const w = new RecentWindow(60, c.now);
    w.record(500, 1);
    c.advance(60_000); // same slot, one full window later
    w.record(200, 1);
    expect(w.summary()).toMatchObject({ requests: 1, errors5xx: 0 });
  });

  it('clamps extreme latencies into the end buckets', () => {
    const w = new RecentWindow(60, clock().now);
    w.record(200, 0);
    w.record(200, 10_000_000);
    const s = w.summary();
    expect(s.requests).toBe(2);
    expect(s.p99Ms).toBeGreaterThan(100_000);
  });

  it('reset empties the window', () => {
    const w = new RecentWindow(60, clock().now);
    w.record(500, 10);
    w.reset();
    expect(w.summary().requests).toBe(0);
  });
});
