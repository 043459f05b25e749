// The reference gateway's core surfaces against a running test bed: probes and fault controls,
// the WebSocket protocol, webhook ingress (idempotency, throttling, exactly-once processing).
import crypto from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { validateProbe, type ProbeResponse } from '../../contract/probe.ts';
import { restartGateway } from '../../src/testbed/control.ts';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const tokens = {
  gateway: readTokenFile(tb.tokenFiles.gateway),
  hook: readTokenFile(tb.tokenFiles.hook),
  admin: readTokenFile(tb.tokenFiles.admin),
  probe: readTokenFile(tb.tokenFiles.probe),
};

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`test bed has no ${what}`);
  return v;
}
const gw = must(tb.gateways[0], 'gateway');
const gw2 = tb.gateways[1] ?? gw;
const wsUrl = (httpUrl: string, path = '/ws') => `${httpUrl.replace(/^http/, 'ws')}${path}`;

// ── HTTP helpers ───────────────────────────────────────────────────────────────

async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}

const admin = (base: string, method: string, path: string, body?: unknown) => call(base, method, path, { token: tokens.admin, body });

const FaultStateSchema = z.object({
  latencyMs: z.number(),
  errorRate: z.number(),
  diskUsedRatio: z.number(),
  degraded: z.boolean(),
  skillHash: z.string(),
  draining: z.boolean(),
});

async function setFaults(base: string, patch: Record<string, unknown>) {
  const r = await admin(base, 'PUT', '/admin/faults', patch);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return FaultStateSchema.parse(r.json);
}

async function resetFaults(base: string) {
  const r = await admin(base, 'POST', '/admin/faults/reset');
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return FaultStateSchema.parse(r.json);
}

async function probe(base: string): Promise<{ status: number; body: ProbeResponse; ms: number }> {
  const t0 = performance.now();
  const r = await fetch(`${base}/keda/metrics`, { headers: { authorization: `Bearer ${tokens.probe}` } });
  const json: unknown = await r.json();
  const ms = performance.now() - t0;
  const v = validateProbe(json);
  if (!v.ok) throw new Error(`probe of ${base} does not match the schema: ${v.errors.join('; ')}`);
  return { status: r.status, body: v.value, ms };
}

const HookOkSchema = z.object({ ok: z.literal(true), runId: z.string().uuid(), replayed: z.literal(true).optional() });

async function postHook(
  base: string,
  hook: 'agent' | 'wake',
  body: unknown,
  opts: { key?: string; token?: string; dispatcher?: Agent } = {},
): Promise<{ status: number; headers: { get(name: string): string | null }; json: unknown }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${opts.token ?? tokens.hook}`,
    'content-type': 'application/json',
  };
  if (opts.key !== undefined) headers['idempotency-key'] = opts.key;
  const init = { method: 'POST', headers, body: JSON.stringify(body) };
  if (opts.dispatcher !== undefined) {
    const r = await undiciFetch(`${base}/hooks/${hook}`, { ...init, dispatcher: opts.dispatcher });
    return { status: r.status, headers: r.headers, json: await r.json() };
  }
  const r = await fetch(`${base}/hooks/${hook}`, init);
  return { status: r.status, headers: r.headers, json: await r.json() };
}

const LookupSchema = z.object({
  runs: z.record(z.string(), z.object({ processed: z.number() })),
  summary: z.object({ asked: z.number(), processed: z.number(), missing: z.number(), duplicated: z.number() }),
});

async function lookupRuns(base: string, runIds: string[]) {
  const r = await admin(base, 'POST', '/admin/runs/lookup', { runIds });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return LookupSchema.parse(r.json);
}

/** Wait until every run was processed, then require each exactly once. */
async function expectProcessedExactlyOnce(runIds: string[], timeoutMs = 30_000): Promise<void> {
  const done = await waitFor(
    async () => {
      const l = await lookupRuns(gw.url, runIds);
      return l.summary.missing === 0 ? l : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${runIds.length} webhook run(s) to be processed` },
  );
  const notOnce = Object.entries(done.runs).filter(([, r]) => r.processed !== 1);
  expect(notOnce).toEqual([]);
  expect(done.summary.duplicated).toBe(0);
}

/** Work-route traffic that takes faults without side effects: a hook body that fails validation (400). */
async function faultableTraffic(base: string, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, async () => (await postHook(base, 'wake', {})).status));
}

// ── WebSocket client ───────────────────────────────────────────────────────────

const FrameSchema = z.looseObject({
  type: z.string(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  ok: z.boolean().optional(),
  event: z.string().optional(),
  payload: z.unknown().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
  seq: z.number().optional(),
});
type Frame = z.infer<typeof FrameSchema>;

class WsClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  upgradeStatus: number | undefined;
  private n = 0;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => {
      this.frames.push(FrameSchema.parse(JSON.parse(data.toString())));
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.upgradeStatus = res.statusCode;
      this.closed = { code: -1, reason: `HTTP ${res.statusCode}` };
      res.resume();
    });
    this.ws.on('error', () => {});
  }

  static async open(url: string): Promise<WsClient> {
    const c = new WsClient(url);
    await waitFor(() => c.ws.readyState === WebSocket.OPEN || c.closed !== undefined, { timeoutMs: 5_000, intervalMs: 10, what: `WebSocket ${url} to open` });
    return c;
  }

  next(pred: (f: Frame) => boolean, what: string, timeoutMs = 10_000): Promise<Frame> {
    return waitFor(() => this.frames.find(pred), { timeoutMs, intervalMs: 10, what });
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  async request(method: string, params?: unknown, timeoutMs = 10_000): Promise<Frame> {
    const id = `t${++this.n}`;
    this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    return this.next((f) => f.type === 'res' && f.id === id, `res to ${method} (${id})`, timeoutMs);
  }

  connect(token: string): Promise<Frame> {
    return this.request('connect', {
      auth: { token },
      client: { id: 'clawstorm-vitest', userId: 'u-vitest', version: '0' },
      minProtocol: 3,
      maxProtocol: 3,
    });
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, { timeoutMs, intervalMs: 10, what: 'WebSocket to close' });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }
}

const openClients: WsClient[] = [];
async function openWs(url: string): Promise<WsClient> {
  const c = await WsClient.open(url);
  openClients.push(c);
  return c;
}

async function connected(url: string): Promise<WsClient> {
  const c = await openWs(url);
  await c.next((f) => f.event === 'connect.challenge', 'connect.challenge');
  const hello = await c.connect(tokens.gateway);
  expect(hello.ok, JSON.stringify(hello)).toBe(true);
  return c;
}

// ── lifecycle ──────────────────────────────────────────────────────────────────

let originalSkillHash: string;

beforeAll(async () => {
  const f = FaultStateSchema.parse((await admin(gw.url, 'GET', '/admin/faults')).json);
  originalSkillHash = tb.skillHash ?? f.skillHash;
});

afterEach(async () => {
  for (const c of openClients.splice(0)) c.close();
  // Every test leaves faults as it found them, on every gateway it may have touched.
  await Promise.all(tb.gateways.map((g) => resetFaults(g.url)));
});

// ── probes ─────────────────────────────────────────────────────────────────────

describe('probes', () => {
  it('/healthz, /readyz and /startupz answer', async () => {
    const h = await call(gw.url, 'GET', '/healthz');
    expect(h).toMatchObject({ status: 200, json: { ok: true } });
    const s = await call(gw.url, 'GET', '/startupz');
    expect(s.status).toBe(200);
    const r = await call(gw.url, 'GET', '/readyz');
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({
      ok: true,
      status: 'ready',
      checks: { redis: { ok: true }, database: { ok: true }, policy: { ok: true } },
    });
  });

  it('the composite probe needs the probe bearer', async () => {
    const none = await call(gw.url, 'GET', '/keda/metrics');
    expect(none.status).toBe(401);
    const wrong = await call(gw.url, 'GET', '/keda/metrics', { token: tokens.hook });
    expect(wrong.status).toBe(401);
  });

  it('every gateway serves the same probe shape, healthy at rest', async () => {
    const keyPaths = (o: unknown, prefix = ''): string[] =>
      typeof o === 'object' && o !== null && !Array.isArray(o)
        ? Object.entries(o).flatMap(([k, v]) => [`${prefix}${k}`, ...keyPaths(v, `${prefix}${k}.`)])
        : [];
    const answers = await Promise.all(tb.gateways.map((g) => probe(g.url)));
    const shapes = answers.map((a) => JSON.stringify(keyPaths(a.body).sort()));
    expect(new Set(shapes).size).toBe(1);
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.body, JSON.stringify(a.body)).toMatchObject({ status: 'healthy', degraded: false, keda: 'openclaw-build-lane' });
      expect(a.body.gateway.skill_hash).toBe(originalSkillHash);
      expect(a.body.detail?.gateway_id).toBe(tb.gateways[i]?.id);
    }
  });

  it('answers in < 200 ms at P95 over 100 calls', async () => {
    const ms: number[] = [];
    for (let i = 0; i < 100; i++) {
      const p = await probe(gw.url);
      expect(p.status).toBe(200);
      ms.push(p.ms);
    }
    ms.sort((a, b) => a - b);
    const p95 = must(ms[Math.ceil(0.95 * ms.length) - 1], 'P95 sample');
    expect(p95).toBeLessThan(200);
  });
});

// ── fault controls ─────────────────────────────────────────────────────────────

describe('fault controls flip the composite probe', () => {
  async function expectHealthy(base = gw.url): Promise<ProbeResponse> {
    const p = await probe(base);
    expect(p.status).toBe(200);
    expect(p.body, JSON.stringify(p.body)).toMatchObject({ status: 'healthy', degraded: false, gateway: { disk_ok: true } });
    return p.body;
  }

  it('the admin route needs the admin token and validates its input', async () => {
    expect((await call(gw.url, 'GET', '/admin/faults')).status).toBe(401);
    expect((await call(gw.url, 'PUT', '/admin/faults', { token: tokens.gateway, body: { degraded: true } })).status).toBe(401);
    for (const bad of [{ latencyMs: -1 }, { latencyMs: 60_001 }, { errorRate: 2 }, { diskUsedRatio: 1.5 }, { nope: true }]) {
      expect((await admin(gw.url, 'PUT', '/admin/faults', bad)).status).toBe(400);
    }
    const state = FaultStateSchema.parse((await admin(gw.url, 'GET', '/admin/faults')).json);
    expect(state).toMatchObject({ latencyMs: 0, errorRate: 0, degraded: false, draining: false });
  });

  it('latencyMs raises the canary P99', async () => {
    await resetFaults(gw.url);
    await expectHealthy();
    await setFaults(gw.url, { latencyMs: 300 });
    const t0 = performance.now();
    const statuses = await faultableTraffic(gw.url, 10);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(statuses.every((s) => s === 400)).toBe(true);
    const p = await probe(gw.url);
    expect(p.body.canary.p99_ms).toBeGreaterThanOrEqual(300);
    // Probes never take injected latency.
    expect(p.ms).toBeLessThan(300);
    await resetFaults(gw.url);
    expect((await probe(gw.url)).body.canary.p99_ms).toBeLessThan(300);
  });

  it('errorRate injects 500s, raises the canary 5xx rate and degrades the probe (HTTP 200)', async () => {
    await resetFaults(gw.url);
    await expectHealthy();
    await setFaults(gw.url, { errorRate: 1 });
    const r = await postHook(gw.url, 'wake', { text: 'x' });
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ error: 'INJECTED_FAULT' });
    await faultableTraffic(gw.url, 19);
    const p = await probe(gw.url);
    expect(p.status).toBe(200);
    expect(p.body.canary['5xx_rate']).toBeGreaterThan(0.005);
    expect(p.body).toMatchObject({ status: 'degraded', degraded: true });

    // WebSocket RPCs take the fault too; connect does not.
    const c = await connected(wsUrl(gw.url));
    const st = await c.request('status');
    expect(st).toMatchObject({ ok: false, error: { code: 'INJECTED_FAULT' } });

    const after = await resetFaults(gw.url);
    expect(after.errorRate).toBe(0);
    const healthy = await expectHealthy();
    expect(healthy.canary['5xx_rate']).toBe(0);
  });

  it('diskUsedRatio: yellow gate clears disk_ok, red gate degrades', async () => {
    await resetFaults(gw.url);
    await expectHealthy();
    await setFaults(gw.url, { diskUsedRatio: 0.85 });
    let p = await probe(gw.url);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'healthy', degraded: false, gateway: { disk_ok: false } });
    const metrics = await call(gw.url, 'GET', '/metrics');
    expect(String(metrics.json)).toMatch(/^openclaw_disk_used_ratio 0\.85$/m);

    await setFaults(gw.url, { diskUsedRatio: 0.91 });
    p = await probe(gw.url);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'degraded', degraded: true, gateway: { disk_ok: false } });

    await resetFaults(gw.url);
    await expectHealthy();
  });

  it('the degraded flag degrades the probe, still HTTP 200', async () => {
    await resetFaults(gw.url);
    await expectHealthy();
    await setFaults(gw.url, { degraded: true });
    const p = await probe(gw.url);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'degraded', degraded: true, gateway: { disk_ok: true } });
    await resetFaults(gw.url);
    await expectHealthy();
  });

  it('skillHash changes the probe, the status RPC and the build info series', async () => {
    await resetFaults(gw.url);
    const canary = `canary-${crypto.randomBytes(4).toString('hex')}`;
    await setFaults(gw.url, { skillHash: canary });
    expect((await probe(gw.url)).body.gateway.skill_hash).toBe(canary);
    const buildInfo = (await call(gw.url, 'GET', '/metrics')).json;
    const series = String(buildInfo)
      .split('\n')
      .filter((l) => l.startsWith('openclaw_build_info{'));
    expect(series).toHaveLength(1);
    expect(series[0]).toContain(`skill_hash="${canary}"`);
    const c = await connected(wsUrl(gw.url));
    expect(await c.request('status')).toMatchObject({ ok: true, payload: { skillHash: canary } });
    // Other gateways keep theirs: that is the drift the harness must see.
    if (gw2 !== gw) expect((await probe(gw2.url)).body.gateway.skill_hash).toBe(originalSkillHash);

    await resetFaults(gw.url);
    expect((await probe(gw.url)).body.gateway.skill_hash).toBe(originalSkillHash);
  });

  it('draining answers 503 on the probe, readiness and hooks, and sends WebSocket clients 1001', async () => {
    await resetFaults(gw.url);
    await expectHealthy();
    const c = await connected(wsUrl(gw.url));
    await setFaults(gw.url, { draining: true });

    const p = await probe(gw.url);
    expect(p.status).toBe(503);
    expect(p.body.detail?.draining).toBe(true);
    const ready = await call(gw.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ ok: false, status: 'draining' });
    expect((await call(gw.url, 'GET', '/healthz')).status).toBe(200);

    const hook = await postHook(gw.url, 'agent', { message: 'during drain' });
    expect(hook.status).toBe(503);
    expect(Number(hook.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(hook.json).toMatchObject({ ok: false, reason: 'draining' });

    expect((await c.waitClosed(5_000)).code).toBe(1001);
    const refused = await WsClient.open(wsUrl(gw.url));
    expect(refused.upgradeStatus).toBe(503);

    await resetFaults(gw.url);
    expect((await probe(gw.url)).status).toBe(200);
    expect((await call(gw.url, 'GET', '/readyz')).status).toBe(200);
  });

  it('reset restores every default at once', async () => {
    await setFaults(gw.url, { latencyMs: 50, errorRate: 0.5, diskUsedRatio: 0.95, degraded: true, skillHash: 'deadbeef', draining: true });
    const state = await resetFaults(gw.url);
    expect(state).toEqual({
      latencyMs: 0,
      errorRate: 0,
      diskUsedRatio: 0.42,
      degraded: false,
      skillHash: originalSkillHash,
      draining: false,
    });
    const p = await probe(gw.url);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'healthy', degraded: false, gateway: { disk_ok: true, skill_hash: originalSkillHash } });
  });
});

// ── WebSocket protocol ─────────────────────────────────────────────────────────

describe('WebSocket protocol', () => {
  it('challenge → connect → hello-ok, directly and through the load balancer', async () => {
    for (const url of [wsUrl(gw.url), wsUrl(tb.lb.url, '/')]) {
      const c = await openWs(url);
      const challenge = await c.next((f) => f.event === 'connect.challenge', 'connect.challenge');
      expect(challenge).toMatchObject({ type: 'event', payload: { nonce: expect.any(String), ts: expect.any(Number) } });
      const hello = await c.connect(tokens.gateway);
      expect(hello).toMatchObject({
        type: 'res',
        ok: true,
        payload: { type: 'hello-ok', protocol: 3, server: { version: expect.any(String), id: expect.any(String) }, policy: { tickIntervalMs: expect.any(Number) } },
      });
      const methods = z.object({ features: z.object({ methods: z.array(z.string()) }) }).parse(hello.payload).features.methods;
      expect(methods).toEqual(expect.arrayContaining(['health', 'status', 'sessions.list', 'tools.invoke', 'sessions.send']));
      c.close();
    }
  });

  it('a bad token gets UNAUTHORIZED and close 1008', async () => {
    const c = await openWs(wsUrl(gw.url));
    await c.next((f) => f.event === 'connect.challenge', 'connect.challenge');
    const res = await c.connect(`wrong-${crypto.randomBytes(12).toString('hex')}`);
    expect(res).toMatchObject({ type: 'res', ok: false, error: { code: 'UNAUTHORIZED' } });
    expect((await c.waitClosed()).code).toBe(1008);
  });

  it('the first request must be connect (also accepted: params.token)', async () => {
    const c = await openWs(wsUrl(gw.url));
    const res = await c.request('status');
    expect(res).toMatchObject({ ok: false });
    expect((await c.waitClosed()).code).toBe(1008);

    const d = await openWs(wsUrl(gw.url, '/'));
    expect(await d.request('connect', { token: tokens.gateway })).toMatchObject({ ok: true, payload: { type: 'hello-ok' } });
  });

  it('health and status RPCs', async () => {
    const c = await connected(wsUrl(gw.url));
    const health = await c.request('health');
    expect(health).toMatchObject({ ok: true, payload: { ok: true, checks: { redis: { ok: true }, database: { ok: true }, policy: { ok: true } } } });
    const status = await c.request('status');
    expect(status).toMatchObject({
      ok: true,
      payload: {
        gateway: { id: gw.id, az: gw.az },
        skillHash: originalSkillHash,
        uptimeMs: expect.any(Number),
        wsConnections: expect.any(Number),
        queueDepth: expect.any(Number),
      },
    });
  });

  it('bad frames get an error res and the connection lives on; unknown methods get METHOD_NOT_FOUND', async () => {
    const c = await connected(wsUrl(gw.url));
    c.sendRaw('this is not json');
    await c.next((f) => f.type === 'res' && f.id === null && f.error?.code === 'INVALID_REQUEST', 'error res for a non-JSON frame');
    c.sendRaw(JSON.stringify({ type: 'req', id: 'no-method' }));
    await c.next((f) => f.type === 'res' && f.id === 'no-method' && f.ok === false, 'error res for a frame without method');
    expect(await c.request('no.such.method')).toMatchObject({ ok: false, error: { code: 'METHOD_NOT_FOUND' } });
    expect(await c.request('tools.invoke', { args: {} })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await c.request('status')).toMatchObject({ ok: true });
  });

  it('tools.invoke reaches the dispatcher and answers on the same id', async () => {
    const c = await connected(wsUrl(gw.url));
    const sessionKey = `ws-test-${crypto.randomBytes(4).toString('hex')}`;
    const res = await c.request('tools.invoke', { name: 'email_search', args: { query: 'quarterly', max: 5 }, sessionKey }, 30_000);
    expect(res.type).toBe('res');
    expect(res.ok, JSON.stringify(res)).toBe(true);
    expect(res.payload).toMatchObject({ result: expect.anything(), requestId: expect.any(String), auditId: expect.any(String) });
    const list = await c.request('sessions.list');
    expect(list).toMatchObject({ ok: true, payload: { sessions: [expect.objectContaining({ sessionKey, calls: 1 })] } });
  });

  it('sessions.send carries an OCIP envelope to the sessions_send tool', async () => {
    const c = await connected(wsUrl(gw.url));
    const tenant = tb.tenantId ?? 'acme';
    const envelope = {
      version: '1.0',
      message_type: 'information_query',
      source_agent: { instance_id: 'agent-vitest', user_id: 'u-vitest', org_unit: 'eng', tenant_id: tenant },
      target_agent: { tenant_id: tenant, org_unit: 'eng' },
      classification: 'internal',
      conversation_id: `conv-${crypto.randomUUID()}`,
      exchange_round: 1,
      max_rounds: 3,
      capabilities: { can_commit: false, can_share: ['public', 'internal'] },
      reply_policy: 'agent-ok',
      requires_commitment: false,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      content: 'which release train is this on?',
    };
    // Both forms: the tool's own arguments, and the bare envelope.
    const wrapped = await c.request('sessions.send', { envelope, sessionKey: 'ocip-wrapped' }, 30_000);
    expect(wrapped.ok, JSON.stringify(wrapped)).toBe(true);
    const bare = await c.request('sessions.send', { ...envelope, conversation_id: `conv-${crypto.randomUUID()}`, sessionKey: 'ocip-bare' }, 30_000);
    expect(bare.ok, JSON.stringify(bare)).toBe(true);
  });

  it('accepts an overlap token during rotation and refuses a revoked one', async () => {
    const overlap = `overlap-${crypto.randomBytes(16).toString('hex')}`;
    try {
      const set = await admin(gw.url, 'PUT', '/admin/tokens', { gateway: [tokens.gateway, overlap] });
      expect(set.status).toBe(200);
      expect(JSON.stringify(set.json)).not.toContain(overlap);
      expect(JSON.stringify(set.json)).not.toContain(tokens.gateway);
      const a = await openWs(wsUrl(gw.url));
      expect(await a.connect(overlap)).toMatchObject({ ok: true });
      const b = await openWs(wsUrl(gw.url));
      expect(await b.connect(tokens.gateway)).toMatchObject({ ok: true });

      expect((await admin(gw.url, 'PUT', '/admin/tokens', { gateway: [overlap] })).status).toBe(200);
      const revoked = await openWs(wsUrl(gw.url));
      expect(await revoked.connect(tokens.gateway)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    } finally {
      expect((await admin(gw.url, 'PUT', '/admin/tokens', { gateway: [tokens.gateway] })).status).toBe(200);
    }
  });
});

// ── webhooks ───────────────────────────────────────────────────────────────────

describe('webhooks', () => {
  it('a replay with the same Idempotency-Key returns the same runId and is not enqueued again', async () => {
    const key = `replay-${crypto.randomUUID()}`;
    const first = await postHook(tb.lb.url, 'agent', { message: 'hello', name: 'vitest' }, { key });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const a = HookOkSchema.parse(first.json);
    expect(a.replayed).toBeUndefined();
    // Replays land on other gateways too (the key store is fleet-wide).
    for (const g of tb.gateways) {
      const again = await postHook(g.url, 'agent', { message: 'hello', name: 'vitest' }, { key });
      expect(again.status).toBe(200);
      expect(HookOkSchema.parse(again.json)).toEqual({ ok: true, runId: a.runId, replayed: true });
    }
    await expectProcessedExactlyOnce([a.runId]);
  });

  it('concurrent deliveries with one key get one runId', async () => {
    const key = `race-${crypto.randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postHook(must(tb.gateways[i % tb.gateways.length], 'gateway').url, 'wake', { text: 'race' }, { key })),
    );
    const parsed = answers.map((r) => HookOkSchema.parse(r.json));
    expect(new Set(parsed.map((p) => p.runId)).size).toBe(1);
    expect(parsed.filter((p) => p.replayed !== true)).toHaveLength(1);
    await expectProcessedExactlyOnce([must(parsed[0], 'answer').runId]);
  });

  it('invalid bodies get 400 {ok:false, error}', async () => {
    for (const [hook, body] of [
      ['agent', {}],
      ['agent', { message: '' }],
      ['wake', { text: 42 }],
      ['wake', { text: 'x', mode: 'sometime' }],
    ] as const) {
      const r = await postHook(gw.url, hook, body);
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ ok: false, error: expect.any(String) });
    }
  });

  it('a bad hook token gets 401, and the 21st failure from one client 429 with Retry-After', async () => {
    // A fresh loopback source address: throttling is per client and fleet-wide, and other tests'
    // clients (127.0.0.1) must not be throttled by this one.
    const octet = () => 1 + crypto.randomInt(253);
    const source = `127.${octet()}.${octet()}.${octet()}`;
    // Top-level `localAddress`: undici ignores one given inside `connect` options.
    const agent = new Agent({ localAddress: source });
    try {
      const bad = `bad-${crypto.randomBytes(12).toString('hex')}`;
      for (let i = 1; i <= 20; i++) {
        const r = await postHook(gw.url, 'agent', { message: 'x' }, { token: bad, dispatcher: agent });
        expect(r.status, `failure ${i}`).toBe(401);
      }
      const limited = await postHook(gw.url, 'agent', { message: 'x' }, { token: bad, dispatcher: agent });
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Throttled means throttled: the right token from that client waits too, on every gateway.
      expect((await postHook(gw2.url, 'agent', { message: 'x' }, { dispatcher: agent })).status).toBe(429);
      // Other clients are unaffected.
      expect((await postHook(gw.url, 'wake', { text: 'not throttled' })).status).toBe(200);
    } finally {
      await agent.close();
    }
  });

  it('every accepted delivery is processed exactly once', async () => {
    const accepted: string[] = [];
    const byKey = new Map<string, string>();
    const keys = Array.from({ length: 120 }, () => `once-${crypto.randomUUID()}`);
    // 120 keyed deliveries, 40 replays of them, 40 without a key; 8 senders through the load balancer.
    const jobs: Array<{ key?: string; hook: 'agent' | 'wake' }> = [
      ...keys.map((key, i) => ({ key, hook: i % 3 === 0 ? ('wake' as const) : ('agent' as const) })),
      ...Array.from({ length: 40 }, () => ({ hook: 'wake' as const })),
    ];
    const replays = keys.slice(0, 40).map((key, i) => ({ key, hook: i % 3 === 0 ? ('wake' as const) : ('agent' as const) }));
    const send = async (job: { key?: string; hook: 'agent' | 'wake' }) => {
      const body = job.hook === 'agent' ? { message: `exactly once ${job.key ?? 'nokey'}` } : { text: `exactly once ${job.key ?? 'nokey'}` };
      const r = await postHook(tb.lb.url, job.hook, body, { key: job.key });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const p = HookOkSchema.parse(r.json);
      if (job.key !== undefined) {
        const seen = byKey.get(job.key);
        if (seen === undefined) byKey.set(job.key, p.runId);
        else expect(p.runId).toBe(seen);
      }
      if (p.replayed !== true) accepted.push(p.runId);
    };
    const pool = async (list: typeof jobs) => {
      let i = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (i < list.length) await send(must(list[i++], 'job'));
        }),
      );
    };
    await pool(jobs);
    await pool(replays);
    expect(accepted).toHaveLength(160);
    expect(new Set(accepted).size).toBe(160);
    await expectProcessedExactlyOnce(accepted);
  });

  it('replays across a gateway restart return the same runId', async () => {
    const target = gw2;
    const key = `restart-${crypto.randomUUID()}`;
    const first = HookOkSchema.parse((await postHook(target.url, 'agent', { message: 'before restart' }, { key })).json);
    await restartGateway(tb, target.id);
    await waitFor(async () => (await call(target.url, 'GET', '/readyz')).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: `${target.id} ready after restart`,
    });
    const again = await postHook(target.url, 'agent', { message: 'before restart' }, { key });
    expect(again.status).toBe(200);
    expect(HookOkSchema.parse(again.json)).toEqual({ ok: true, runId: first.runId, replayed: true });
    await expectProcessedExactlyOnce([first.runId]);
  });
});
