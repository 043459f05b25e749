import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsSession } from '../../../src/load/drivers/ws.ts';
import { SampleSink } from '../../../src/load/samples.ts';

const TOKEN = 'gw-token-8b1e';

/** A tiny gateway: challenge → connect(token) → hello-ok, then echo / fail / silent RPCs and an event. */
function startGateway(): Promise<{ url: string; wss: WebSocketServer; connectParams: unknown[] }> {
  const connectParams: unknown[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws: WebSocket) => {
    const nonce = `n-${Math.random()}`;
    let authed = false;
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce, ts: Date.now() } }));
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { type: string; id: string; method: string; params: Record<string, unknown> };
      if (!authed) {
        if (f.type !== 'req' || f.method !== 'connect') return ws.close(1008, 'first frame must be connect');
        connectParams.push(f.params);
        const auth = f.params.auth as { token?: string } | undefined;
        if (auth?.token !== TOKEN) {
          ws.send(JSON.stringify({ type: 'res', id: f.id, ok: false, error: { code: 'UNAUTHORIZED', message: 'bad token' } }));
          return ws.close(1008, 'unauthorized');
        }
        authed = true;
        ws.send(JSON.stringify({ type: 'res', id: f.id, ok: true, payload: { type: 'hello-ok', protocol: 3, policy: { tickIntervalMs: 15000 } } }));
        return;
      }
      if (f.method === 'echo') ws.send(JSON.stringify({ type: 'res', id: f.id, ok: true, payload: f.params }));
      else if (f.method === 'fail') ws.send(JSON.stringify({ type: 'res', id: f.id, ok: false, error: { code: 'INVALID_REQUEST', message: 'no' } }));
      else if (f.method === 'overloaded') ws.send(JSON.stringify({ type: 'res', id: f.id, ok: false, error: { code: 'UNAVAILABLE', message: 'busy' } }));
      else if (f.method === 'notify') {
        ws.send(JSON.stringify({ type: 'event', event: 'tick', payload: { n: 1 }, seq: 7 }));
        ws.send(JSON.stringify({ type: 'res', id: f.id, ok: true, payload: {} }));
      } else if (f.method === 'drop') ws.terminate();
      // 'silent': never answers
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () => resolve({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, wss, connectParams })),
  );
}

describe('WebSocket driver', () => {
  let gw: Awaited<ReturnType<typeof startGateway>>;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    for (const c of gw.wss.clients) c.terminate();
    await new Promise((r) => gw.wss.close(r));
  });

  it('handshakes (challenge → connect with token → hello-ok), then req/res with latency samples', async () => {
    const sink = new SampleSink();
    const s = await WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws', step: 'session' });
    try {
      expect(s.hello).toMatchObject({ type: 'hello-ok', protocol: 3 });
      expect(gw.connectParams.at(-1)).toMatchObject({ minProtocol: 3, role: 'operator', auth: { token: TOKEN } });
      const events: string[] = [];
      s.onEvent((e) => events.push(`${e.event}:${e.seq}`));

      const echo = await s.call('echo', { a: 1 });
      expect(echo).toMatchObject({ ok: true, payload: { a: 1 }, statusClass: '2xx' });
      // Concurrent calls are matched by id.
      const many = await Promise.all([1, 2, 3, 4, 5].map((n) => s.call('echo', { n })));
      expect(many.map((m) => (m.payload as { n: number }).n)).toEqual([1, 2, 3, 4, 5]);
      const fail = await s.call('fail', {}, { step: 'bad' });
      expect(fail).toMatchObject({ ok: false, statusClass: '4xx', error: { code: 'INVALID_REQUEST' } });
      const busy = await s.call('overloaded', {});
      expect(busy.statusClass).toBe('5xx');
      await s.call('notify', {});
      expect(events).toEqual(['tick:7']);
      const t0 = performance.now();
      const silent = await s.call('silent', {}, { timeoutMs: 100 });
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(silent).toMatchObject({ ok: false, statusClass: 'error' });
      expect(silent.latencyMs).toBeGreaterThanOrEqual(99);

      const sum = sink.summary();
      const byTag = Object.fromEntries(sum.tagSets.map((t) => [`${t.tags.step}/${t.tags.method}/${t.tags.status_class}`, t.count]));
      expect(byTag).toEqual({
        'session/connect/2xx': 1,
        'session/echo/2xx': 6,
        'bad/fail/4xx': 1,
        'session/overloaded/5xx': 1,
        'session/notify/2xx': 1,
        'session/silent/error': 1,
      });
      expect(JSON.stringify(sum)).not.toContain(TOKEN);
    } finally {
      await s.close();
    }
    expect(s.isOpen).toBe(false);
  });

  it('a refused token rejects connect and records a 4xx connect sample', async () => {
    const sink = new SampleSink();
    await expect(WsSession.connect(gw.url, 'wrong', { sink, scenario: 'ws' })).rejects.toThrow(/connect refused: UNAUTHORIZED/);
    expect(sink.summary().tagSets[0]).toMatchObject({ tags: { method: 'connect', status_class: '4xx' }, count: 1, errors: 1 });
  });

  it('a dropped connection fails pending calls as errors, and later calls too', async () => {
    const sink = new SampleSink();
    const s = await WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws' });
    const pending = s.call('silent', {}, { timeoutMs: 5_000 });
    const r = await s.call('drop', {}, { timeoutMs: 5_000 });
    expect(r).toMatchObject({ ok: false, statusClass: 'error' });
    await expect(pending).resolves.toMatchObject({ ok: false, statusClass: 'error' });
    await expect(s.call('echo', {})).resolves.toMatchObject({ ok: false, statusClass: 'error' });
    await s.close();
  });

  it('connecting to nothing fails within the connect timeout', async () => {
    const sink = new SampleSink();
    await expect(WsSession.connect('ws://127.0.0.1:1', TOKEN, { sink, scenario: 'ws', connectTimeoutMs: 500 })).rejects.toThrow(/socket error/);
    expect(sink.summary().tagSets[0]?.tags.status_class).toBe('error');
  });
});
