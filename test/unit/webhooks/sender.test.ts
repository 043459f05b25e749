// Retry disciplines against an in-process stub hook endpoint.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cappedDelay, classify, deliver, fullJitter, parseRetryAfter, type SendTarget } from '../../../src/webhooks/sender.ts';

describe('backoff', () => {
  it('full jitter stays in [0, min(cap, base·2^n))', () => {
    const p = { baseMs: 100, capMs: 1_000 };
    expect(fullJitter(0, p, () => 0)).toBe(0);
    expect(fullJitter(0, p, () => 0.999)).toBe(99);
    expect(fullJitter(2, p, () => 0.5)).toBe(200);
    expect(fullJitter(10, p, () => 0.999)).toBe(999);
    for (let i = 0; i < 200; i++) {
      const v = fullJitter(3, p);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(800);
    }
  });

  it('Retry-After: seconds or an HTTP date; never sooner than it says, jitter on top', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    const p = { retries: 3, baseMs: 250, capMs: 10_000 };
    expect(cappedDelay(0, 1_000, p, () => 0)).toBe(1_000);
    expect(cappedDelay(1, 1_000, p, () => 0.5)).toBe(1_250);
    expect(cappedDelay(1, undefined, p, () => 0.5)).toBe(250);
  });

  it('classifies answers: 2xx ack; 429, 5xx, network retry; other 4xx permanent', () => {
    expect(classify(200)).toBe('ack');
    expect(classify(429)).toBe('retry');
    expect(classify(503)).toBe('retry');
    expect(classify(0)).toBe('retry');
    expect(classify(401)).toBe('permanent');
    expect(classify(400)).toBe('permanent');
  });
});

let server: http.Server;
let url = '';
/** Statuses to answer, per key, in order; then 200. */
const script = new Map<string, number[]>();
const seen: Array<{ key: string; retry: string; corr: string; at: number }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      seen.push({ key, retry: String(req.headers['x-retry-count']), corr: String(req.headers['x-correlation-id']), at: Date.now() });
      const next = script.get(key)?.shift();
      if (next !== undefined) {
        res.writeHead(next, { 'content-type': 'application/json', ...(next === 429 ? { 'retry-after': '1' } : {}) }).end('{"ok":false}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, runId: `run-${key}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const policy = { capped: { retries: 3, baseMs: 10, capMs: 50 }, unbounded: { deadlineMs: 5_000, maxAttempts: 1_000 } };
function tgt(): SendTarget {
  return { url, hook: 'agent', token: 't', dispatcher: new Agent(), timeoutMs: 5_000 };
}

describe('disciplines', () => {
  it('capped: gives up after 3 retries, each attempt with its retry count and own correlation id', async () => {
    script.set('k1', [503, 503, 503, 503, 503]);
    const o = await deliver(tgt(), 'k1', { message: 'x' }, 'capped', policy);
    expect(o.acked).toBe(false);
    expect(o.gaveUp).toBe('retries');
    expect(o.attempts).toHaveLength(4);
    const mine = seen.filter((s) => s.key === 'k1');
    expect(mine.map((s) => s.retry)).toEqual(['0', '1', '2', '3']);
    expect(new Set(mine.map((s) => s.corr)).size).toBe(4);
  });

  it('capped: honours Retry-After (429 → at least 1 s before the retry)', async () => {
    script.set('k2', [429]);
    const o = await deliver(tgt(), 'k2', { message: 'x' }, 'capped', policy);
    expect(o.acked).toBe(true);
    expect(o.runId).toBe('run-k2');
    const mine = seen.filter((s) => s.key === 'k2');
    expect(mine[1]!.at - mine[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('unbounded: retries at once until it gets through', async () => {
    script.set('k3', Array.from({ length: 30 }, () => 429));
    const t0 = Date.now();
    const o = await deliver(tgt(), 'k3', { message: 'x' }, 'unbounded', policy);
    expect(o.acked).toBe(true);
    expect(o.attempts).toHaveLength(31);
    // No Retry-After honoured, no backoff: 30 retries in a few hundred ms (backoff would take
    // minutes); the bound leaves room for a busy machine.
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('unbounded: stops at its deadline; a permanent error stops both at once', async () => {
    script.set('k4', Array.from({ length: 100_000 }, () => 503));
    const o = await deliver(tgt(), 'k4', { message: 'x' }, 'unbounded', { ...policy, unbounded: { deadlineMs: 200, maxAttempts: 100_000 } });
    expect(o.acked).toBe(false);
    expect(o.gaveUp).toBe('deadline');
    script.set('k5', [401]);
    const p = await deliver(tgt(), 'k5', { message: 'x' }, 'unbounded', policy);
    expect(p.gaveUp).toBe('permanent');
    expect(p.attempts).toHaveLength(1);
  });
});
