import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchOpenClawGateways, type OpenClawFleet } from '../../harness/openclaw/launch.ts';
import { OpenClawTarget } from './openclaw-client.ts';

// Against two REAL OpenClaw gateways (npm `openclaw`, installed once into ~/.cache/clawstorm).
// Each test runs against both, so per-gateway isolation (ports, tokens, state) is checked too.
let fleet: OpenClawFleet;
let targets: OpenClawTarget[] = [];

beforeAll(async () => {
  fleet = await launchOpenClawGateways({ count: 2, readyTimeoutMs: 180_000 });
  targets = fleet.gateways.map(
    (g) => new OpenClawTarget({ baseUrl: g.baseUrl, gatewayToken: g.gatewayToken, hookToken: g.hookToken, scenario: `interop-${g.index}` }),
  );
}, 900_000);

afterAll(async () => {
  await Promise.all(targets.map((t) => t.close()));
  await fleet?.stop();
}, 60_000);

const both = (): Array<[number]> => [[0], [1]];

describe('real openclaw gateways', () => {
  it('run on distinct ports with distinct tokens and state dirs', () => {
    const [a, b] = fleet.gateways;
    expect(a && b).toBeTruthy();
    expect(a?.port).not.toBe(b?.port);
    expect(a?.gatewayToken).not.toBe(b?.gatewayToken);
    expect(a?.hookToken).not.toBe(b?.hookToken);
    expect(a?.stateDir).not.toBe(b?.stateDir);
  });

  it.each(both())('gateway %i: /healthz and /readyz', async (i) => {
    const t = targets[i]!;
    const h = await t.healthz();
    expect(h.res.status).toBe(200);
    expect(h.data?.ok).toBe(true);
    const r = await t.readyz();
    expect(r.res.status).toBe(200);
    expect(r.data?.ready).toBe(true);
  });

  it.each(both())('gateway %i: WebSocket challenge → connect → hello-ok, then RPCs', async (i) => {
    const t = targets[i]!;
    const { session, hello } = await t.connectWs();
    try {
      expect(hello.protocol).toBe(4);
      expect(hello.auth?.role).toBe('operator');
      expect(hello.features?.methods).toEqual(expect.arrayContaining(['health', 'status', 'sessions.list', 'tools.invoke']));
      const health = await session.call('health', {});
      expect(health.ok).toBe(true);
      const list = await session.call('sessions.list', {});
      expect(list.ok).toBe(true);
      const tool = await t.wsToolsInvoke(session, 'sessions_list');
      expect(tool.ok).toBe(true);
    } finally {
      await session.close();
    }
  });

  it.each(both())('gateway %i: WebSocket connect with a wrong token is refused', async (i) => {
    const g = fleet.gateways[i]!;
    const other = fleet.gateways[1 - i]!;
    // The other gateway's token: isolation, not just "any bad string".
    const t = new OpenClawTarget({ baseUrl: g.baseUrl, gatewayToken: other.gatewayToken, hookToken: g.hookToken });
    try {
      await expect(t.connectWs({ connectTimeoutMs: 10_000 })).rejects.toThrow(/connect refused|closed/);
    } finally {
      await t.close();
    }
  });

  it.each(both())('gateway %i: POST /tools/invoke sessions_list with bearer; 401 without', async (i) => {
    const t = targets[i]!;
    const ok = await t.toolsInvoke('sessions_list', {});
    expect(ok.res.status).toBe(200);
    expect(ok.data?.ok).toBe(true);
    const bad = await t.toolsInvoke('sessions_list', {}, { token: `wrong-${randomUUID()}` });
    expect(bad.res.status).toBe(401);
  });

  it.each(both())('gateway %i: POST /hooks/agent replays the same runId for the same Idempotency-Key', async (i) => {
    const t = targets[i]!;
    const key = `interop-${randomUUID()}`;
    const first = await t.hookAgent({ message: 'interop replay check' }, { idempotencyKey: key });
    expect(first.res.status).toBe(200);
    expect(first.data?.runId).toBeTruthy();
    const again = await t.hookAgent({ message: 'interop replay check' }, { idempotencyKey: key });
    expect(again.res.status).toBe(200);
    expect(again.data?.runId).toBe(first.data?.runId);
    const fresh = await t.hookAgent({ message: 'interop replay check' }, { idempotencyKey: `${key}-b` });
    expect(fresh.data?.runId).toBeTruthy();
    expect(fresh.data?.runId).not.toBe(first.data?.runId);
  });

  it.each(both())('gateway %i: POST /hooks/wake', async (i) => {
    const w = await targets[i]!.hookWake('interop wake');
    expect(w.res.status).toBe(200);
    expect(w.data?.ok).toBe(true);
  });

  // Last: it locks this client out of the hook surface for 60 s.
  it.each(both())('gateway %i: 401 on a bad hook token, 429 with Retry-After after ~20 failures', async (i) => {
    const t = targets[i]!;
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let n = 0; n < 25; n++) {
      const r = await t.hookWake('x', { token: `bad-${n}`, expectStatus: [401, 429] });
      statuses.push(r.res.status);
      if (r.res.status === 429) {
        const h = r.res.headers['retry-after'];
        retryAfter = Array.isArray(h) ? h[0] : h;
        break;
      }
    }
    expect(statuses[0]).toBe(401);
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThanOrEqual(15);
    expect(first429).toBeLessThanOrEqual(21);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The other gateway keeps its own limiter: one bad token there is still a plain 401.
    if (i === 0) {
      const other = await targets[1]!.hookWake('x', { token: 'bad-other', expectStatus: [401, 429] });
      expect(other.res.status).toBe(401);
    }
  });
});
