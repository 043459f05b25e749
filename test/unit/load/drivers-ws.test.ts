import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestAbortedByRunError } from '../../../src/load/drivers/http.ts';
import { WsSession } from '../../../src/load/drivers/ws.ts';
import { SampleSink } from '../../../src/load/samples.ts';
import { startWsGateway, type WsGateway } from './servers.ts';

const TOKEN = 'gw-token-8b1e';

describe('WebSocket driver', () => {
  let gw: WsGateway;
  beforeAll(async () => {
    gw = await startWsGateway({ token: TOKEN });
  });
  afterAll(async () => {
    await gw.close();
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
      // The 100 ms timeout cut it (the method never answers); room for a busy machine.
      expect(performance.now() - t0).toBeLessThan(5_000);
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

  it('close() says how the session ended: our clean close, or the peer having ended it first', async () => {
    const sink = new SampleSink();
    const mine = await WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws' });
    await expect(mine.close()).resolves.toEqual({ code: 1000, reason: 'done', initiator: 'client', clean: true });
    await expect(mine.closed).resolves.toMatchObject({ initiator: 'client' });

    const dropped = await WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws' });
    await dropped.call('drop', {}, { timeoutMs: 5_000 });
    const info = await dropped.closed;
    expect(info).toMatchObject({ code: 1006, initiator: 'server', clean: false });
    // Closing afterwards does not turn the peer's drop into our close.
    await expect(dropped.close()).resolves.toEqual(info);
  });

  it("the run's stop rejects pending calls without a sample and cuts every session on that signal", async () => {
    const sink = new SampleSink();
    const stop = new AbortController();
    const sessions = await Promise.all([1, 2, 3].map(() => WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws', signal: stop.signal })));
    const calls = sessions.map((s) => s.call('silent', {}, { timeoutMs: 10_000 }));
    const answered = await sessions[0]?.call('echo', { a: 1 });
    expect(answered).toMatchObject({ ok: true });
    stop.abort();
    for (const c of calls) await expect(c).rejects.toBeInstanceOf(RequestAbortedByRunError);
    for (const s of sessions) await expect(s.closed).resolves.toMatchObject({ initiator: 'abort' });
    // A call after the stop rejects at once; the only RPC samples are the answered ones.
    await expect(sessions[1]?.call('echo', {})).rejects.toBeInstanceOf(RequestAbortedByRunError);
    const rpc = sink.summary().tagSets.filter((t) => t.tags.method !== 'connect');
    expect(rpc.map((t) => `${t.tags.method}/${t.tags.status_class}:${t.count}`)).toEqual(['echo/2xx:1']);
    await expect(WsSession.connect(gw.url, TOKEN, { sink, scenario: 'ws', signal: stop.signal })).rejects.toBeInstanceOf(RequestAbortedByRunError);
  });

  it('connecting to nothing fails within the connect timeout', async () => {
    const sink = new SampleSink();
    await expect(WsSession.connect('ws://127.0.0.1:1', TOKEN, { sink, scenario: 'ws', connectTimeoutMs: 500 })).rejects.toThrow(/socket error/);
    expect(sink.summary().tagSets[0]?.tags.status_class).toBe('error');
  });
});
