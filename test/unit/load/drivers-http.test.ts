import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBurst } from '../../../src/load/drivers/burst.ts';
import { HttpDriver } from '../../../src/load/drivers/http.ts';
import { SampleSink, redactMessage } from '../../../src/load/samples.ts';
import { freePort } from '../../../src/util/ports.ts';
import { startRoutesServer } from './servers.ts';

const TOKEN = 'tok-3f9a1c77-very-secret';

describe('HTTP driver', () => {
  let server: Awaited<ReturnType<typeof startRoutesServer>>;
  beforeAll(async () => {
    server = await startRoutesServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const ctx = (over: Partial<{ intendedStart: number; startLagMs: number; signal: AbortSignal }> = {}) => ({
    scenario: 's',
    signal: new AbortController().signal,
    ...over,
  });

  it('records one tagged sample per request and returns the parsed response', async () => {
    const sink = new SampleSink();
    const http = new HttpDriver({ baseUrl: server.url, sink, headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const j = http.journey(ctx());
      const ok = await j.request('invoke', { method: 'POST', path: '/tools/invoke', body: { tool: 'email_read' }, tag: 'email_read' });
      expect(ok).toMatchObject({ status: 200, ok: true, statusClass: '2xx', body: { ok: true, method: 'POST', body: { tool: 'email_read' } } });
      expect(server.lastAuth()).toBe(`Bearer ${TOKEN}`);
      const nf = await j.request('read', { path: '/status/404' });
      expect(nf).toMatchObject({ status: 404, ok: false, statusClass: '4xx', body: 'status 404' });
      const limited = await j.request('read', { path: '/status/429', expectStatus: [200, 429] });
      expect(limited).toMatchObject({ status: 429, ok: true, statusClass: '4xx' });
      const boom = await j.request('read', { path: '/status/503' });
      expect(boom).toMatchObject({ ok: false, statusClass: '5xx' });
      const redirect = await j.request('read', { path: '/status/302', expectStatus: 200 });
      expect(redirect).toMatchObject({ ok: false, statusClass: '3xx' });

      const s = sink.summary();
      const tags = s.tagSets.map((t) => `${t.tags.step}/${t.tags.method}/${t.tags.status_class}:${t.count}:${t.errors}`).sort();
      expect(tags).toEqual(['invoke/email_read/2xx:1:0', 'read/GET/3xx:1:1', 'read/GET/4xx:2:1', 'read/GET/5xx:1:1']);
      expect(s.totals).toMatchObject({ requests: 5, errors: 3 });
      expect(JSON.stringify(s)).not.toContain(TOKEN);
      // The token joined the process-wide redaction list, so it is masked even where no pattern would find it.
      expect(redactMessage(`upstream said ${TOKEN} was odd`)).toBe('upstream said *** was odd');
    } finally {
      await http.close();
    }
  });

  it('network failures and timeouts are status_class "error" with a message that carries no token', async () => {
    const sink = new SampleSink();
    const dead = new HttpDriver({ baseUrl: `http://127.0.0.1:${await freePort()}`, sink, headers: { authorization: `Bearer ${TOKEN}` } });
    const slow = new HttpDriver({ baseUrl: server.url, sink, timeoutMs: 150 });
    try {
      const refused = await dead.journey(ctx()).request('read', { path: '/ok' });
      expect(refused).toMatchObject({ status: 0, ok: false, statusClass: 'error' });
      expect(refused.error).toMatch(/ECONNREFUSED/);
      expect(refused.error).not.toContain(TOKEN);
      const t0 = performance.now();
      const hung = await slow.journey(ctx()).request('read', { path: '/hang' });
      // The timeout cut it (the /hang route never answers); a generous bound, the machine may be busy.
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(hung).toMatchObject({ status: 0, ok: false, statusClass: 'error', error: 'timeout after 150 ms waiting for response headers' });
      expect(hung.latencyMs).toBeGreaterThanOrEqual(149);
      expect(sink.summary().tagSets.map((t) => t.tags.status_class)).toEqual(['error']);
    } finally {
      await dead.destroy();
      await slow.destroy();
    }
  });

  it('adds the iteration start lag (open model) and marks the sample as measured from intended start', async () => {
    const sink = new SampleSink();
    const http = new HttpDriver({ baseUrl: server.url, sink });
    try {
      const r = await http.journey(ctx({ intendedStart: performance.now() - 400, startLagMs: 400 })).request('read', { path: '/ok' });
      expect(r.latencyMs).toBeGreaterThanOrEqual(400);
      expect(r.latencyMs).toBeLessThan(400 + 500);
      expect(sink.summary().scenarios[0]?.latencyFrom).toBe('intended-start');
    } finally {
      await http.close();
    }
  });

  it('keeps one connection per concurrent request, reuses them, and queues beyond a cap', async () => {
    const sink = new SampleSink();
    const open = new HttpDriver({ baseUrl: server.url, sink });
    const capped = new HttpDriver({ baseUrl: server.url, sink, connections: 2 });
    try {
      const before = server.connections();
      // 6 at once with no cap: 6 connections; 6 more afterwards reuse them.
      await Promise.all(Array.from({ length: 6 }, () => open.journey(ctx()).request('slow', { path: '/slow/50' })));
      await Promise.all(Array.from({ length: 6 }, () => open.journey(ctx()).request('slow', { path: '/slow/10' })));
      expect(server.connections() - before).toBe(6);
      expect(open.stats()).toMatchObject({ connected: 6, free: 6, queued: 0 });

      // 6 at once through 2 connections: all answered, never more than 2 connections, and the
      // wait inside the client shows in the latency (3 rounds of ~50 ms for the last ones).
      const mid = server.connections();
      const t0 = performance.now();
      const res = await Promise.all(Array.from({ length: 6 }, () => capped.journey(ctx()).request('slow', { path: '/slow/50' })));
      expect(res.every((r) => r.status === 200)).toBe(true);
      expect(server.connections() - mid).toBe(2);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      expect(Math.max(...res.map((r) => r.latencyMs))).toBeGreaterThanOrEqual(140);
      expect(capped.stats()).toMatchObject({ queued: 0, pending: 0 });
    } finally {
      await open.close();
      await capped.close();
    }
  });

  it('a refused origin fails each request, and the driver recovers when the origin comes up', async () => {
    const sink = new SampleSink();
    const port = await freePort();
    const http = new HttpDriver({ baseUrl: `http://127.0.0.1:${port}`, sink, connections: 1 });
    const { createServer } = await import('node:http');
    const late = createServer((_req, res) => res.end('up'));
    try {
      const refused = await Promise.all([1, 2, 3].map(() => http.journey(ctx()).request('read', { path: '/' })));
      expect(refused.map((r) => r.statusClass)).toEqual(['error', 'error', 'error']);
      await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
      const ok = await http.journey(ctx()).request('read', { path: '/' });
      expect(ok).toMatchObject({ status: 200, body: 'up' });
    } finally {
      await http.destroy();
      await new Promise((r) => late.close(r));
    }
  });

  it("the run's own abort throws (iteration ends) and records no sample", async () => {
    const sink = new SampleSink();
    const http = new HttpDriver({ baseUrl: server.url, sink });
    const stop = new AbortController();
    try {
      const p = http.journey(ctx({ signal: stop.signal })).request('read', { path: '/hang' });
      setTimeout(() => stop.abort(), 50);
      await expect(p).rejects.toThrow(/run is stopping/);
      expect(sink.summary().totals.requests).toBe(0);
    } finally {
      await http.destroy();
    }
  });
});

describe('burst driver (autocannon)', () => {
  let server: Awaited<ReturnType<typeof startRoutesServer>>;
  beforeAll(async () => {
    server = await startRoutesServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('records every response into our sink (fixed amount, no rate)', async () => {
    const sink = new SampleSink();
    const r = await runBurst(sink, { url: `${server.url}/ok`, scenario: 'burst', step: 'read', connections: 5, amount: 60 });
    expect(r.responses).toBe(60);
    expect(r.errors).toBe(0);
    const s = sink.summary();
    expect(s.totals.requests).toBe(60);
    expect(s.tagSets[0]?.tags).toEqual({ scenario: 'burst', step: 'read', method: 'GET', status_class: '2xx' });
    expect(r.autocannonReport.requestsTotal).toBeGreaterThanOrEqual(60);
    expect(r.autocannonReport.note).toMatch(/ignoreCoordinatedOmission/);
  });

  it('with a rate, no back-filled samples: sample count equals responses', async () => {
    const sink = new SampleSink();
    const r = await runBurst(sink, {
      url: `${server.url}/status/500`,
      scenario: 'burst',
      step: 'rated',
      connections: 2,
      overallRate: 40,
      amount: 20,
    });
    expect(r.responses).toBe(20);
    const s = sink.summary();
    // autocannon's own CO correction would have invented extra samples; ours holds exactly the responses.
    expect(s.totals).toMatchObject({ requests: 20, errors: 20 });
    expect(s.tagSets[0]?.latencySamples).toBe(20);
    expect(s.tagSets[0]?.tags.status_class).toBe('5xx');
  });
});
