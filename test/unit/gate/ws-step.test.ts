// The `ws:` step end to end through runScenario (the gate's path, Prometheus left out) against an
// in-process gateway speaking challenge → connect → hello-ok and req/res frames.
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../../src/config/scenario.ts';
import { runScenario, type ScenarioOutcome } from '../../../src/gate/scenario-run.ts';
import { wsUrlOf } from '../../../src/gate/ws-step.ts';
import { startWsGateway, type WsGateway, type WsGatewayOptions } from '../load/servers.ts';

const TOKEN = 'gw-token-ws-step-5c1f';

const SCENARIO = (vus: number) => `
name: ws-held
title: WS held
profiles:
  smoke: { executor: per-vu-iterations, vus: ${vus}, iterations: 1, barrier: true, maxDuration: 30s }
journeys:
  - name: held
    steps:
      - name: session
        timeout: 2s
        ws:
          hold: 600ms
          every: 200ms
          closeTimeout: 1s
          calls:
            - { method: health }
            - { method: sessions.list, params: { user: '{{user}}' } }
thresholds:
  - { name: connect, metric: latency, select: { steps: [session.connect] }, expr: 'p(95)<1s' }
  - { name: rpc, metric: latency, select: { steps: [session.rpc] }, expr: 'p(95)<1s' }
  - { name: list, metric: latency, select: { steps: [session.rpc], methods: [sessions.list] }, expr: 'p(95)<1s' }
  - { name: connect errors, metric: errors, select: { steps: [session.connect] }, expr: 'count==0' }
  - { name: rpc errors, metric: errors, select: { steps: [session.rpc] }, expr: 'count==0' }
  - { name: close errors, metric: errors, select: { steps: [session.close] }, expr: 'count==0' }
`;

let gw: WsGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function run(gwOpts: Omit<WsGatewayOptions, 'token'>, o: { vus?: number; token?: string; abortAfterMs?: number; connectParams?: Record<string, unknown> } = {}): Promise<ScenarioOutcome> {
  gw = await startWsGateway({ token: TOKEN, ...gwOpts });
  const s = parseScenario(SCENARIO(o.vus ?? 3), '/tmp/ws-held.yaml');
  const ac = new AbortController();
  if (o.abortAfterMs !== undefined) setTimeout(() => ac.abort(), o.abortAfterMs);
  return runScenario(s, {
    profile: 'smoke',
    target: {
      // The step derives ws:// from the target's http:// base URL.
      baseUrl: gw.url.replace(/^ws:/, 'http:'),
      tokens: { gateway: o.token ?? TOKEN },
      runId: 'r1',
      ...(o.connectParams ? { wsConnectParams: o.connectParams } : {}),
    },
    prom: undefined,
    scrapeIntervalSeconds: 15,
    signal: ac.signal,
    // What is judged here is the step's accounting against a server that misbehaves on purpose;
    // whether a busy host saturates the generator is the monitor's tests' business. Without
    // this, a shared 2-core machine turns these strict fails into inconclusive (plan §9).
    monitor: { eventLoopP99Ms: 60_000, eventLoopMaxMs: 60_000, pacerLagP99Ms: 60_000, cpuSustainedS: 3_600 },
  });
}

/** `step/method/status_class` → sample count. */
function counts(out: ScenarioOutcome): Record<string, number> {
  return Object.fromEntries(out.engine.summary.tagSets.map((t) => [`${t.tags.step}/${t.tags.method}/${t.tags.status_class}`, t.count]));
}
const threshold = (out: ScenarioOutcome, name: string) => out.result.thresholds.find((t) => t.name === name);

describe('ws scenario step', () => {
  it('connects, polls every call each tick for the hold, closes cleanly; samples land on connect/rpc/close', async () => {
    const t0 = performance.now();
    const out = await run({}, { connectParams: { minProtocol: 4, maxProtocol: 4, client: { id: 'gateway-client', mode: 'backend' } } });
    // Each VU held its session for the whole hold.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(600);
    // Ticks at 0, 200, 400 ms of a 600 ms hold: 3 per session, both calls each tick.
    expect(counts(out)).toEqual({
      'session.connect/connect/2xx': 3,
      'session.rpc/health/2xx': 9,
      'session.rpc/sessions.list/2xx': 9,
      'session.close/close/2xx': 3,
    });
    expect(gw?.calls.filter((m) => m === 'health')).toHaveLength(9);
    // Our close frame (1000) reached the server: a clean close, not a cut connection.
    expect(gw?.clientCloses).toEqual([1000, 1000, 1000]);
    // The target's connect params go over the driver's defaults; the token is always auth.
    expect(gw?.connectParams[0]).toMatchObject({ minProtocol: 4, maxProtocol: 4, client: { id: 'gateway-client', mode: 'backend' }, role: 'operator', auth: { token: TOKEN } });
    expect(out.result.status).toBe('Pass');
    for (const name of ['connect', 'rpc', 'list']) {
      expect(threshold(out, name)).toMatchObject({ verdict: 'pass' });
      expect(threshold(out, name)?.observed).toBeGreaterThan(0);
    }
    expect(out.result.extra.iterations_completed).toBe(3);
  });

  it.each<[string, 'terminate' | number]>([
    ['cuts the connection', 'terminate'],
    ['closes with 1001', 1001],
  ])('a server that %s mid-hold: failed close samples, failed iterations, the verdict fails', async (_what, dropWith) => {
    const t0 = performance.now();
    const out = await run({ dropAfterMs: 250, dropWith });
    // The drop ends the session instead of waiting out the hold: the counts below show it (no tick
    // after the drop); the clock only checks nothing hung, with room for a busy machine.
    expect(performance.now() - t0).toBeLessThan(5_000);
    const c = counts(out);
    expect(c['session.connect/connect/2xx']).toBe(3);
    expect(c['session.close/close/error']).toBe(3);
    expect(c['session.close/close/2xx']).toBeUndefined();
    // Ticks at 0 and 200 ms answered before the drop at 250 ms.
    expect(c['session.rpc/health/2xx']).toBe(6);
    expect(threshold(out, 'close errors')).toMatchObject({ verdict: 'fail', observed: 3 });
    expect(threshold(out, 'rpc errors')).toMatchObject({ verdict: 'pass' });
    expect(out.result.status).toBe('Fail');
    expect(out.result.extra.iterations_failed).toBe(3);
    const msgs = out.engine.summary.scenarios.find((x) => x.scenario === 'ws-held')?.errorMessages ?? [];
    expect(msgs[0]?.message).toMatch(/session: the server ended the session after 0\.\d s of a 0\.6 s hold/);
  });

  it('a refused handshake is a failed connect sample and no RPCs', async () => {
    const out = await run({}, { vus: 2, token: 'wrong' });
    expect(counts(out)).toEqual({ 'session.connect/connect/4xx': 2 });
    expect(threshold(out, 'connect errors')).toMatchObject({ verdict: 'fail', observed: 2 });
    // No RPC samples: a latency threshold on them has no data rather than passing.
    expect(threshold(out, 'rpc')?.verdict).toBe('no_data');
    expect(out.result.status).toBe('Fail');
  });

  it('stopping the run mid-hold interrupts the sessions without blaming the server', async () => {
    gw = await startWsGateway({ token: TOKEN });
    const s = parseScenario(SCENARIO(2).replace('hold: 600ms', 'hold: 30s'), '/tmp/ws-held.yaml');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const out = await runScenario(s, {
      profile: 'smoke',
      target: { baseUrl: gw.url.replace(/^ws:/, 'http:'), tokens: { gateway: TOKEN }, runId: 'r1' },
      prom: undefined,
      scrapeIntervalSeconds: 15,
      signal: ac.signal,
    });
    const c = counts(out);
    expect(c['session.connect/connect/2xx']).toBe(2);
    expect(Object.keys(c).filter((k) => k.startsWith('session.close/'))).toEqual([]);
    expect(Object.keys(c).filter((k) => k.endsWith('/error'))).toEqual([]);
    expect(out.result.extra.iterations_interrupted).toBe(2);
  });

  it('the URL is the step path on the target host, http→ws and https→wss', () => {
    expect(wsUrlOf('http://127.0.0.1:8080', '/')).toBe('ws://127.0.0.1:8080/');
    expect(wsUrlOf('https://gw.example:443/api', '/ws')).toBe('wss://gw.example/ws');
  });
});
