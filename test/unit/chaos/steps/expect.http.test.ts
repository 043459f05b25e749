// expect.http: one request per gateway (or one through the load balancer, a real HAProxy here)
// with a named token, judged as a threshold on the status. The fake gateways answer 200 to the
// tokens they accept and 401 to anything else. It changes nothing, so it journals nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HaproxyInstance } from '../../../../harness/launch/haproxy.ts';
import expectHttp from '../../../../src/chaos/steps/expect-http.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { waitServerState } from '../../../../src/lb/runtime.ts';
import { freePort } from '../../../../src/util/ports.ts';
import { fakeTarget, runStep, startFakeLb, startFleet, stepContext, stopHaproxy, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let lb: HaproxyInstance;
beforeAll(async () => {
  fleet = await startFleet();
  lb = await startFakeLb(fleet);
  for (const g of fleet.gateways) await waitServerState(lb, g.name, 'UP', 10_000);
});
afterAll(async () => {
  await stopHaproxy(lb);
  await fleet.close();
});
beforeEach(() => fleet.reset());

const work = (c: { route: string }) => c.route === 'POST /tools/invoke' || c.route === 'GET /tools/invoke';
const body = { tool: 'sessions_list', args: { user_id: 'rotation-check' } };

describe('expect.http', () => {
  it('asks every gateway with the named token from a loopback address of its own, and passes when each answers the status', async () => {
    const r = stepContext(fleet, fakeTarget(fleet, { lb }), { label: 'primary accepted' });
    await runStep({ 'expect.http': { path: '/tools/invoke', token: 'gateway', status: 200, body } }, r.ctx);
    const sent = fleet.calls.filter(work);
    expect(sent.map((c) => c.to)).toEqual(['gw-1', 'gw-2']);
    for (const c of sent) {
      expect(c.auth).toBe(`Bearer ${TOKENS.gateway}`);
      expect(c.body).toEqual(body);
      expect(c.headers['x-correlation-id']).toBe('run-1.expect');
      expect(c.headers['content-type']).toBe('application/json');
      // Not 127.0.0.1: a deliberate auth failure must not throttle the drill's other clients.
      expect(c.from).toMatch(/^(::ffff:)?127\.\d+\.\d+\.\d+$/);
      expect(c.from).not.toMatch(/127\.0\.0\.1$/);
    }
    expect(r.thresholds).toEqual([{ name: 'primary accepted', source: 'client', expr: 'POST /tools/invoke with token gateway → 200', observed: 200, verdict: 'pass', detail: 'gw-1 200, gw-2 200' }]);
    expect(r.events).toEqual([{ label: 'primary accepted: gw-1 200, gw-2 200', kind: 'measure' }]);
    expect(r.journal.snapshot.entries).toEqual([]);
  });

  it('a revoked token expected to get 401 passes on the gateways named', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await runStep({ 'expect.http': { via: ['gw-2'], path: '/tools/invoke', token: 'secondary', status: 401 } }, r.ctx);
    expect(fleet.calls.filter(work).map((c) => [c.to, c.body])).toEqual([['gw-2', {}]]);
    expect(r.thresholds[0]).toMatchObject({ verdict: 'pass', observed: 401, detail: 'gw-2 401' });
  });

  it('one gateway answering otherwise fails the threshold and is named with what it said (the step itself does not throw)', async () => {
    fleet.gw('gw-2').state.tokens = [TOKENS.secondary];
    const r = stepContext(fleet, fakeTarget(fleet), { label: 'accepted everywhere' });
    await runStep({ 'expect.http': { path: '/tools/invoke', token: 'gateway', status: 200 } }, r.ctx);
    expect(r.thresholds).toEqual([expect.objectContaining({ name: 'accepted everywhere', verdict: 'fail', observed: 401, detail: 'gw-1 200, gw-2 401' })]);
  });

  it('GET sends no body', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await runStep({ 'expect.http': { via: ['gw-1'], method: 'GET', path: '/tools/invoke', token: 'gateway', status: 200 } }, r.ctx);
    const c = fleet.calls.filter(work);
    expect(c.map((x) => [x.route, x.body, x.headers['content-length'] ?? null])).toEqual([['GET /tools/invoke', undefined, null]]);
    expect(r.thresholds[0]?.verdict).toBe('pass');
  });

  it('via lb: one request through HAProxy, answered by one of the gateways', async () => {
    const r = stepContext(fleet, fakeTarget(fleet, { lb }));
    await runStep({ 'expect.http': { via: 'lb', path: '/tools/invoke', token: 'gateway', status: 200 } }, r.ctx);
    const sent = fleet.calls.filter(work);
    expect(sent).toHaveLength(1);
    expect(['gw-1', 'gw-2']).toContain(sent[0]?.to);
    expect(sent[0]?.auth).toBe(`Bearer ${TOKENS.gateway}`);
    expect(r.thresholds[0]).toMatchObject({ verdict: 'pass', observed: 200, detail: 'lb 200' });
  });

  it('a gateway that does not answer fails the threshold with the error, and no status is claimed for it', async () => {
    const t = fakeTarget(fleet);
    t.gateways[1]!.url = `http://127.0.0.1:${await freePort()}`;
    const r = stepContext(fleet, t);
    await runStep({ 'expect.http': { via: ['gw-2'], path: '/tools/invoke', token: 'gateway', status: 401 } }, r.ctx);
    expect(r.thresholds[0]).toMatchObject({ verdict: 'fail', observed: null });
    expect(r.thresholds[0]?.detail).toMatch(/^gw-2 .*(ECONNREFUSED|connect)/);
  });

  it('an unknown token is a drill error raised before any request, not a failed expectation', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'expect.http': { path: '/tools/invoke', token: 'nxet', status: 401 } }, r.ctx)).rejects.toThrow(/tokens\.nxet: required by this drill/);
    expect(fleet.calls.filter(work)).toEqual([]);
    expect(r.thresholds).toEqual([]);
  });

  it('an unknown gateway is refused; refs name the gateways of `via` for preflight', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'expect.http': { via: ['gw-5'], path: '/x', token: 'gateway', status: 200 } }, r.ctx)).rejects.toThrow(/no gateway "gw-5"/);
    expect(fleet.calls).toEqual([]);
    const parse = (a: unknown) => expectHttp.schema.parse(a);
    expect(expectHttp.refs?.(parse({ via: ['gw-5', 'gw-1'], path: '/x', token: 'gateway', status: 200 }), [])).toEqual([
      { field: 'via', kind: 'gateway', name: 'gw-5' },
      { field: 'via', kind: 'gateway', name: 'gw-1' },
    ]);
    expect(expectHttp.refs?.(parse({ via: 'lb', path: '/x', token: 'gateway', status: 200 }), [])).toEqual([]);
    expect(parse({ path: '/x', token: 'gateway', status: 200 })).toMatchObject({ via: 'all', method: 'POST' });
  });

  it('the schema refuses a relative path, an unknown method and a status outside 100–599', () => {
    const ok = { path: '/tools/invoke', token: 'gateway', status: 200 };
    expect(StepSchema.safeParse({ 'expect.http': ok }).success).toBe(true);
    for (const bad of [{ ...ok, path: 'tools/invoke' }, { ...ok, method: 'DELETE' }, { ...ok, status: 600 }, { ...ok, status: 99 }, { ...ok, via: [] }, { ...ok, extra: 1 }]) {
      expect(StepSchema.safeParse({ 'expect.http': bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
