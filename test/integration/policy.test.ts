// Policy sidecars on the real test bed: the OPA data API they speak, and hot reload measured
// end to end (plan: < 60 s from policy change to evaluations reflecting it) — through the API
// (Redis push), by a direct SQL change (the revision poll fallback), and at the tool call a user
// makes through HAProxy.
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { readTokenFile } from '../../src/testbed/tokens.ts';
import type { TestbedEndpoints } from '../../src/testbed/types.ts';
import { waitFor } from '../../src/util/wait.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedEndpoints;
  }
}

const tb = inject('testbed');
const token = readTokenFile(tb.tokenFiles.gateway);
const tenant = tb.tenantId ?? 'acme';
const HOT_RELOAD_BOUND_MS = 60_000;

const Decision = z.object({ result: z.object({ allow: z.boolean(), reason: z.string(), policy: z.string().optional(), require_approval: z.boolean().optional() }).loose() });
const Revision = z.object({ result: z.object({ revision: z.number(), loaded_at: z.string(), policies: z.number() }).loose() });

async function decide(url: string, domain: string, input: Record<string, unknown>): Promise<z.infer<typeof Decision>['result']> {
  const r = await fetch(`${url}/v1/data/openclaw/enterprise/${domain}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
  expect(r.status).toBe(200);
  return Decision.parse(await r.json()).result;
}

const input = (user: string, action: string) => ({ tenant_id: tenant, user_id: user, action, data_classification: 'internal', channel: 'http', target_system: 'gmail', additional: {} });

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${tb.lb.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'x-tenant-id': tenant, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as unknown };
}

/** Per sidecar, ms from `t0` until `probe` holds for it (polled every 25 ms). */
async function timeUntil(t0: number, probe: (url: string) => Promise<boolean>, what: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await Promise.all(
    tb.policies.map(async (s) => {
      await waitFor(() => probe(s.url), { timeoutMs: HOT_RELOAD_BOUND_MS, intervalMs: 25, what: `${s.id}: ${what}` });
      out[s.id] = Date.now() - t0;
    }),
  );
  return out;
}

describe('OPA data API of the sidecars', () => {
  it('GET /health answers {} like OPA; the seeded baseline allows an ordinary call', async () => {
    for (const s of tb.policies) {
      const h = await fetch(`${s.url}/health`);
      expect(h.status).toBe(200);
      expect(await h.json()).toEqual({});
      expect(await decide(s.url, 'actions', input('someone', 'email_read'))).toMatchObject({ allow: true });
    }
  });

  it('an undefined document answers {} (the gateway fails closed on it); a body without input is 400', async () => {
    const s = tb.policies[0]!;
    const r = await fetch(`${s.url}/v1/data/openclaw/enterprise/weather`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":{}}' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({});
    const bad = await fetch(`${s.url}/v1/data/openclaw/enterprise/actions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nope":1}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_parameter' });
  });

  it('exposes the loaded revision, in the data API and in /metrics', async () => {
    for (const s of tb.policies) {
      const rev = Revision.parse(await (await fetch(`${s.url}/v1/data/system/revision`)).json()).result;
      expect(rev.policies).toBeGreaterThanOrEqual(7);
      const text = await (await fetch(`${s.url}/metrics`)).text();
      for (const name of ['policy_sidecar_evaluations_total', 'policy_sidecar_evaluation_duration_seconds_bucket', 'policy_sidecar_policies_loaded', 'policy_sidecar_reloads_total', 'policy_sidecar_policy_version']) {
        expect(text, name).toContain(name);
      }
      const v = /^policy_sidecar_policy_version (\d+)/m.exec(text);
      expect(Number(v?.[1])).toBeGreaterThanOrEqual(rev.revision);
    }
  });
});

describe('policy hot reload (< 60 s)', () => {
  let db: pg.Pool;
  const cleanup: string[] = [];
  beforeAll(() => {
    db = new pg.Pool({ connectionString: tb.database.url, max: 2 });
  });
  afterAll(async () => {
    for (const id of cleanup) await db.query('DELETE FROM policy.policies WHERE id = $1', [id]).catch(() => {});
    await db.end();
  });

  it('through the API: every sidecar denies within the bound after the change, and allows again after the delete', async () => {
    const user = `hot-${crypto.randomBytes(4).toString('hex')}`;
    for (const s of tb.policies) expect((await decide(s.url, 'actions', input(user, 'email_search'))).allow).toBe(true);

    const t0 = Date.now();
    const created = await api('POST', '/policies', {
      scope: 'user',
      scopeId: user,
      domain: 'actions',
      name: `hot-reload-${user}`,
      content: { rules: [{ effect: 'deny', actions: ['email_*'], reason: 'hot reload test' }] },
      changeReason: 'integration test: hot reload',
    });
    expect(created.status).toBe(201);
    const { policy, revision } = z.object({ policy: z.object({ id: z.string() }), revision: z.number() }).loose().parse(created.body);
    cleanup.push(policy.id);
    const deny = await timeUntil(t0, async (url) => !(await decide(url, 'actions', input(user, 'email_search'))).allow, 'deny after create');
    process.stderr.write(`[policy] hot reload (API + Redis push), create → deny per sidecar: ${JSON.stringify(deny)} ms\n`);
    for (const ms of Object.values(deny)) expect(ms).toBeLessThan(HOT_RELOAD_BOUND_MS);
    for (const s of tb.policies) {
      expect(Revision.parse(await (await fetch(`${s.url}/v1/data/system/revision`)).json()).result.revision).toBeGreaterThanOrEqual(revision);
    }

    const t1 = Date.now();
    expect((await api('DELETE', `/policies/${policy.id}`)).status).toBe(200);
    const allow = await timeUntil(t1, async (url) => (await decide(url, 'actions', input(user, 'email_search'))).allow, 'allow after delete');
    process.stderr.write(`[policy] hot reload (API + Redis push), delete → allow per sidecar: ${JSON.stringify(allow)} ms\n`);
    for (const ms of Object.values(allow)) expect(ms).toBeLessThan(HOT_RELOAD_BOUND_MS);
  });

  it('without the Redis message (a change made in SQL), the revision poll still reloads within the bound', async () => {
    const user = `poll-${crypto.randomBytes(4).toString('hex')}`;
    const id = crypto.randomUUID();
    const t0 = Date.now();
    await db.query(
      `INSERT INTO policy.policies (id, tenant_id, scope, scope_id, domain, name, version, content, change_reason)
       VALUES ($1, $2, 'user', $3, 'actions', $4, 1, $5::jsonb, 'integration test: poll fallback')`,
      [id, tenant, user, `poll-${user}`, JSON.stringify({ rules: [{ effect: 'deny', actions: ['jira_*'], reason: 'poll test' }] })],
    );
    cleanup.push(id);
    const deny = await timeUntil(t0, async (url) => !(await decide(url, 'actions', input(user, 'jira_search'))).allow, 'deny by polling');
    process.stderr.write(`[policy] hot reload (SQL change, poll fallback) per sidecar: ${JSON.stringify(deny)} ms\n`);
    for (const ms of Object.values(deny)) expect(ms).toBeLessThan(HOT_RELOAD_BOUND_MS);
  });

  it('at the tool call: a user-scope deny created through the API turns /tools/invoke into 403 within the bound', async () => {
    const user = `tool-${crypto.randomBytes(4).toString('hex')}`;
    const invoke = async () => {
      const r = await fetch(`${tb.lb.url}/tools/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-user-id': user },
        body: JSON.stringify({ tool: 'email_search', args: { query: '' } }),
      });
      await r.body?.cancel();
      return r.status;
    };
    expect(await invoke()).toBe(200);
    const t0 = Date.now();
    const created = await api('POST', '/policies', {
      scope: 'user',
      scopeId: user,
      domain: 'integrations',
      name: `hot-tool-${user}`,
      content: { rules: [{ effect: 'deny', actions: ['email_*'], reason: 'hot reload at the tool' }] },
      changeReason: 'integration test: tool hot reload',
    });
    expect(created.status).toBe(201);
    cleanup.push(z.object({ policy: z.object({ id: z.string() }) }).loose().parse(created.body).policy.id);
    // Through HAProxy, so any gateway (and its sidecar) may answer: require several denials in a
    // row, one per gateway at least, before calling it reloaded everywhere.
    let streak = 0;
    await waitFor(
      async () => {
        streak = (await invoke()) === 403 ? streak + 1 : 0;
        return streak >= tb.gateways.length * 2;
      },
      { timeoutMs: HOT_RELOAD_BOUND_MS, intervalMs: 25, what: '/tools/invoke to be denied for the user' },
    );
    const ms = Date.now() - t0;
    process.stderr.write(`[policy] hot reload at /tools/invoke (create → ${tb.gateways.length * 2} denials in a row): ${ms} ms\n`);
    expect(ms).toBeLessThan(HOT_RELOAD_BOUND_MS);
  });
});
