// The Enterprise REST API (/api/v1) through HAProxy on the real test bed: policy CRUD with
// scope-hierarchy validation, audit query / get / export, every documented per-tenant rate
// limit (429 + Retry-After, counted fleet-wide), /status turning 503 when a component is down,
// the JSON metrics, and the auto-response flow. Each test uses its own tenant so neither data
// nor rate-limit budgets bleed between tests.
import crypto from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { startSidecar, stopSidecar } from '../../src/testbed/control.ts';
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
const lb = tb.lb.url;

const newTenant = (what: string) => `it-${what}-${crypto.randomBytes(4).toString('hex')}`;

interface Res {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function api(method: string, path: string, o: { tenant?: string; body?: unknown; base?: string; user?: string; auth?: string | null } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (o.auth !== null) headers.authorization = `Bearer ${o.auth ?? token}`;
  if (o.tenant !== undefined) headers['x-tenant-id'] = o.tenant;
  if (o.user !== undefined) headers['x-user-id'] = o.user;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${o.base ?? lb}/api/v1${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
  const text = await r.text();
  let body: unknown = text;
  if ((r.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // export bodies are checked as text
    }
  }
  return { status: r.status, headers: r.headers, body, text };
}

const ErrorBody = z.object({ error: z.string(), message: z.string(), detail: z.unknown().optional() });
const Policy = z.object({
  id: z.uuid(),
  tenantId: z.string(),
  scope: z.enum(['enterprise', 'org', 'team', 'user']),
  scopeId: z.string(),
  domain: z.string(),
  name: z.string(),
  version: z.number(),
  content: z.unknown(),
  changeReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
});
const Mutation = z.object({ policy: Policy, revision: z.number(), auditId: z.uuid() }).loose();
const AuditEntry = z.object({
  id: z.uuid(),
  timestamp: z.string(),
  tenant_id: z.string(),
  user_id: z.string(),
  action_type: z.string(),
  action_detail: z.record(z.string(), z.unknown()),
  data_accessed: z.array(z.unknown()),
  model_used: z.string().nullable(),
  model_tokens: z.number().nullable(),
  data_classification: z.string(),
  policy_applied: z.string().nullable(),
  policy_result: z.enum(['allow', 'deny', 'error']),
  policy_reason: z.string().nullable(),
  outcome: z.enum(['success', 'denied', 'error', 'pending']),
  request_id: z.string(),
});
const AuditPage = z.object({ entries: z.array(AuditEntry), total: z.number(), page: z.number(), page_size: z.number(), has_more: z.boolean() });

function expectError(r: Res, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  const b = ErrorBody.parse(r.body);
  expect(b.error).toBe(code);
  return b;
}

const denyDrive = { rules: [{ effect: 'deny', id: 'no-drive', actions: ['gdrive_*'], reason: 'drive is off limits' }] };

describe('auth and tenancy', () => {
  it('refuses a missing or wrong token with 401 in the error shape', async () => {
    expectError(await api('GET', '/policies', { auth: null, tenant: newTenant('auth') }), 401, 'UNAUTHORIZED');
    expectError(await api('GET', '/policies', { auth: 'not-the-token-at-all', tenant: newTenant('auth') }), 401, 'UNAUTHORIZED');
  });

  it('refuses a malformed tenant id', async () => {
    expectError(await api('GET', '/policies', { tenant: 'bad tenant!' }), 400, 'INVALID_TENANT');
  });

  it('unknown routes are 404 in the error shape', async () => {
    expectError(await api('GET', '/nope'), 404, 'NOT_FOUND');
  });
});

describe('policy CRUD', () => {
  const tenant = newTenant('crud');

  it('create → get → list → update (versioned) → delete, each change audited as policy_change', async () => {
    const created = await api('POST', '/policies', {
      tenant,
      user: 'admin-1',
      body: { scope: 'enterprise', scopeId: tenant, domain: 'actions', name: 'no-drive', content: denyDrive, changeReason: 'integration test: create' },
    });
    expect(created.status, created.text).toBe(201);
    const c = Mutation.parse(created.body);
    expect(c.policy).toMatchObject({ tenantId: tenant, scope: 'enterprise', domain: 'actions', name: 'no-drive', version: 1, deletedAt: null, changeReason: 'integration test: create' });
    const id = c.policy.id;

    const got = await api('GET', `/policies/${id}`, { tenant });
    expect(got.status).toBe(200);
    expect(Policy.parse(got.body)).toMatchObject({ id, content: denyDrive });
    // Another tenant cannot see it.
    expectError(await api('GET', `/policies/${id}`, { tenant: newTenant('other') }), 404, 'NOT_FOUND');

    const list = z.object({ policies: z.array(Policy), total: z.number(), revision: z.number() }).parse((await api('GET', '/policies?domain=actions', { tenant })).body);
    expect(list.policies.map((p) => p.id)).toContain(id);
    // The all-tenant baseline is listed too, unless excluded.
    expect(list.policies.some((p) => p.tenantId === '*' && p.name === 'baseline-allow-all')).toBe(true);
    const own = z.object({ policies: z.array(Policy) }).parse((await api('GET', '/policies?include_global=false', { tenant })).body);
    expect(own.policies.map((p) => p.id)).toEqual([id]);

    // Optimistic concurrency: a stale version is refused, the current one accepted.
    expectError(await api('PUT', `/policies/${id}`, { tenant, body: { version: 7, changeReason: 'stale' } }), 409, 'VERSION_CONFLICT');
    const narrowed = { rules: [{ effect: 'deny', actions: ['gdrive_write'], reason: 'no drive writes' }] };
    const updated = await api('PUT', `/policies/${id}`, { tenant, user: 'admin-1', body: { version: 1, content: narrowed, changeReason: 'integration test: narrow' } });
    expect(updated.status, updated.text).toBe(200);
    const u = Mutation.parse(updated.body);
    expect(u.policy).toMatchObject({ version: 2, content: narrowed, changeReason: 'integration test: narrow' });
    expect(u.revision).toBeGreaterThan(c.revision);

    expectError(await api('POST', '/policies', { tenant, body: { scope: 'enterprise', scopeId: tenant, domain: 'actions', name: 'no-drive', content: denyDrive, changeReason: 'dup' } }), 409, 'POLICY_EXISTS');

    const deleted = await api('DELETE', `/policies/${id}?reason=integration%20test%3A%20cleanup`, { tenant, user: 'admin-1' });
    expect(deleted.status, deleted.text).toBe(200);
    expect(z.object({ deleted: z.literal(true), policy: Policy }).loose().parse(deleted.body).policy.deletedAt).not.toBeNull();
    expectError(await api('DELETE', `/policies/${id}`, { tenant }), 404, 'NOT_FOUND');
    expectError(await api('PUT', `/policies/${id}`, { tenant, body: { changeReason: 'too late' } }), 404, 'NOT_FOUND');
    const after = z.object({ policies: z.array(Policy) }).parse((await api('GET', '/policies?include_global=false', { tenant })).body);
    expect(after.policies).toEqual([]);
    const withDeleted = z.object({ policies: z.array(Policy) }).parse((await api('GET', '/policies?include_global=false&include_deleted=true', { tenant })).body);
    expect(withDeleted.policies.map((p) => p.id)).toEqual([id]);

    const audit = AuditPage.parse((await api('GET', '/audit?action_type=policy_change', { tenant })).body);
    expect(audit.total).toBe(3);
    expect(audit.entries.map((e) => e.action_detail.operation)).toEqual(['delete', 'update', 'create']);
    expect(audit.entries.every((e) => e.user_id === 'admin-1' && e.outcome === 'success' && e.action_detail.policy_id === id)).toBe(true);
    expect(audit.entries.map((e) => e.action_detail.change_reason)).toEqual(['integration test: cleanup', 'integration test: narrow', 'integration test: create']);
  });

  it('refuses malformed policies with 400 and the field at fault', async () => {
    const bad = await api('POST', '/policies', { tenant, body: { scope: 'galaxy', scopeId: 'x', domain: 'actions', name: 'n', content: { rules: [{ effect: 'deny' }] }, changeReason: 'x' } });
    const b = expectError(bad, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(b.detail)).toContain('scope');
    expectError(await api('GET', '/policies/not-a-uuid', { tenant }), 404, 'NOT_FOUND');
    expectError(await api('POST', '/policies', { tenant, body: { scope: 'user', scopeId: 'u', domain: 'actions', name: 'n', content: { rules: [] } } }), 400, 'VALIDATION_FAILED');
  });

  it('a lower scope may not allow what a higher scope denies: 400 POLICY_HIERARCHY_VIOLATION with the conflict', async () => {
    const t = newTenant('hier');
    const ent = Mutation.parse((await api('POST', '/policies', { tenant: t, body: { scope: 'enterprise', scopeId: t, domain: 'actions', name: 'no-drive', content: denyDrive, changeReason: 'it' } })).body);
    const teamAllow = { rules: [{ effect: 'allow', actions: ['gdrive_read', 'email_read'], reason: 'team needs drive' }] };
    const v = await api('POST', '/policies', { tenant: t, body: { scope: 'team', scopeId: 'red', domain: 'actions', name: 'team-drive', content: teamAllow, changeReason: 'it' } });
    const b = expectError(v, 400, 'POLICY_HIERARCHY_VIOLATION');
    expect(b.detail).toMatchObject({ violations: [{ rule: 0, effect: 'allow', conflictsWith: { policyId: ent.policy.id, scope: 'enterprise', ruleId: 'no-drive', reason: 'drive is off limits' } }] });
    // require_approval allows too, so it conflicts as well; at user scope just the same.
    expectError(
      await api('POST', '/policies', { tenant: t, body: { scope: 'user', scopeId: 'alice', domain: 'actions', name: 'alice-drive', content: { rules: [{ effect: 'require_approval', actions: ['gdrive_search'], reason: 'x' }] }, changeReason: 'it' } }),
      400,
      'POLICY_HIERARCHY_VIOLATION',
    );
    // What the higher scope does not deny is fine, and so is another domain.
    expect((await api('POST', '/policies', { tenant: t, body: { scope: 'team', scopeId: 'red', domain: 'actions', name: 'team-email', content: { rules: [{ effect: 'allow', actions: ['email_read'], reason: 'ok' }] }, changeReason: 'it' } })).status).toBe(201);
    expect((await api('POST', '/policies', { tenant: t, body: { scope: 'team', scopeId: 'red', domain: 'integrations', name: 'team-drive', content: teamAllow, changeReason: 'it' } })).status).toBe(201);
    // An update that introduces a conflict is refused the same way, and changes nothing.
    const userPol = Mutation.parse((await api('POST', '/policies', { tenant: t, body: { scope: 'user', scopeId: 'bob', domain: 'actions', name: 'bob', content: { rules: [] }, changeReason: 'it' } })).body);
    expectError(await api('PUT', `/policies/${userPol.policy.id}`, { tenant: t, body: { content: teamAllow, changeReason: 'it' } }), 400, 'POLICY_HIERARCHY_VIOLATION');
    expect(Policy.parse((await api('GET', `/policies/${userPol.policy.id}`, { tenant: t })).body).version).toBe(1);
    // The other way round is allowed (a higher scope may always restrict), with a warning.
    const w = await api('POST', '/policies', { tenant: t, body: { scope: 'org', scopeId: 'eng', domain: 'actions', name: 'no-email', content: { rules: [{ effect: 'deny', actions: ['email_*'], reason: 'no' }] }, changeReason: 'it' } });
    expect(w.status).toBe(201);
    expect(z.object({ warnings: z.object({ shadowedLowerScopeRules: z.array(z.unknown()).min(1) }) }).loose().safeParse(w.body).success).toBe(true);
  });
});

describe('audit API', () => {
  const tenant = newTenant('audit');
  const auditIds: string[] = [];

  it('get by id, query with filters and paging, export as json and csv', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/policies', { tenant, user: `auditor-${i % 2}`, body: { scope: 'user', scopeId: `u${i}`, domain: 'actions', name: `p${i}`, content: { rules: [] }, changeReason: `reason, "quoted" ${i}` } });
      auditIds.push(Mutation.parse(r.body).auditId);
    }
    const one = await api('GET', `/audit/${auditIds[0]}`, { tenant });
    expect(one.status).toBe(200);
    expect(AuditEntry.parse(one.body)).toMatchObject({ id: auditIds[0], tenant_id: tenant, user_id: 'auditor-0', action_type: 'policy_change', outcome: 'success' });
    expectError(await api('GET', `/audit/${crypto.randomUUID()}`, { tenant }), 404, 'NOT_FOUND');
    expectError(await api('GET', `/audit/${auditIds[0]}`, { tenant: newTenant('other') }), 404, 'NOT_FOUND');

    const page1 = AuditPage.parse((await api('GET', '/audit?page_size=2', { tenant })).body);
    expect(page1).toMatchObject({ total: 3, page: 1, page_size: 2, has_more: true });
    expect(page1.entries.map((e) => e.id)).toEqual([auditIds[2], auditIds[1]]);
    const page2 = AuditPage.parse((await api('GET', '/audit?page_size=2&page=2', { tenant })).body);
    expect(page2).toMatchObject({ has_more: false });
    expect(page2.entries.map((e) => e.id)).toEqual([auditIds[0]]);
    expect(AuditPage.parse((await api('GET', '/audit?user_id=auditor-1', { tenant })).body).total).toBe(1);
    const reqId = AuditEntry.parse(one.body).request_id;
    expect(AuditPage.parse((await api('GET', `/audit?request_id=${encodeURIComponent(reqId)}`, { tenant })).body).entries.map((e) => e.id)).toEqual([auditIds[0]]);
    const first = AuditEntry.parse(one.body).timestamp;
    expect(AuditPage.parse((await api('GET', `/audit?from=${encodeURIComponent(first)}&to=${encodeURIComponent(first)}`, { tenant })).body).entries.map((e) => e.id)).toContain(auditIds[0]);
    expect(AuditPage.parse((await api('GET', '/audit?from=2000-01-01&to=2000-01-02', { tenant })).body).total).toBe(0);

    expectError(await api('GET', '/audit?page_size=1001', { tenant }), 400, 'VALIDATION_FAILED');
    expectError(await api('GET', '/audit?from=yesterday', { tenant }), 400, 'VALIDATION_FAILED');
    expectError(await api('GET', '/audit?from=2026-02-01&to=2026-01-01', { tenant }), 400, 'VALIDATION_FAILED');

    const json = await api('GET', '/audit/export?format=json', { tenant });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toMatch(/attachment; filename="audit-.*\.json"/);
    expect(z.array(AuditEntry).parse(JSON.parse(json.text)).map((e) => e.id)).toEqual([auditIds[2], auditIds[1], auditIds[0]]);

    const csv = await api('GET', '/audit/export?format=csv&user_id=auditor-0', { tenant });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,timestamp,tenant_id,user_id,action_type,action_detail,data_accessed,model_used,model_tokens,data_classification,policy_applied,policy_result,policy_reason,outcome,request_id');
    expect(lines).toHaveLength(3);
    // The change reason with a comma and quotes arrives escaped inside the JSON detail field.
    expect(csv.text).toContain('""change_reason"":""reason, \\""quoted\\"" 2""');
    const empty = await api('GET', '/audit/export?format=json&user_id=nobody', { tenant });
    expect(JSON.parse(empty.text)).toEqual([]);
  });
});

/** Requests until one is refused; the limit must hold exactly, fleet-wide, inside one window. */
async function exhaust(limit: number, send: () => Promise<Res>, concurrency = 10): Promise<{ ok: number; limited: Res[] }> {
  // Fixed one-minute windows: start early in a window so the whole burst falls inside it.
  await waitFor(() => new Date().getUTCSeconds() < 40, { timeoutMs: 30_000, intervalMs: 250, what: 'the start of a rate-limit window' });
  const window = Math.floor(Date.now() / 60_000);
  const total = limit + 5;
  let next = 0;
  let ok = 0;
  const limited: Res[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const r = await send();
        if (r.status === 429) limited.push(r);
        else ok++;
      }
    }),
  );
  expect(Math.floor(Date.now() / 60_000), 'burst crossed a rate-limit window').toBe(window);
  return { ok, limited };
}

describe('per-tenant rate limits (documented: mutations 60, audit GET 120, export 10, admin 60, status 300 per minute)', () => {
  const cases: Array<[string, number, (tenant: string) => Promise<Res>]> = [
    // Invalid bodies still spend the tenant's mutation budget (the limit is checked first), and write nothing.
    ['policy mutations', 60, (tenant) => api('POST', '/policies', { tenant, body: { invalid: true } })],
    ['audit GET', 120, (tenant) => api('GET', '/audit?page_size=1', { tenant })],
    ['audit export', 10, (tenant) => api('GET', '/audit/export?format=csv&limit=1', { tenant })],
    ['admin', 60, (tenant) => api('GET', '/policies?include_global=false', { tenant })],
    ['status', 300, (tenant) => api('GET', '/status', { tenant })],
  ];

  it.each(cases)('%s: %d per minute, then 429 with Retry-After', async (_name, limit, send) => {
    const tenant = newTenant('rl');
    const { ok, limited } = await exhaust(limit, () => send(tenant), 20);
    expect(ok).toBe(limit);
    expect(limited).toHaveLength(5);
    for (const r of limited) {
      const retry = Number(r.headers.get('retry-after'));
      expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${r.headers.get('retry-after')}`).toBe(true);
      expectError(r, 429, 'RATE_LIMITED');
    }
    // Another tenant's budget is untouched.
    expect((await send(newTenant('rl-other'))).status).not.toBe(429);
  });
});

describe('status and metrics', () => {
  it('GET /status answers 200 healthy with every component', async () => {
    const body = await waitFor(
      async () => {
        const r = await api('GET', '/status', { tenant: newTenant('status') });
        return r.status === 200 ? r.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: '/status to report healthy' },
    );
    const s = z.object({ status: z.literal('healthy'), components: z.record(z.string(), z.object({ status: z.string(), latency_ms: z.number() }).loose()) }).loose().parse(body);
    expect(Object.keys(s.components).sort()).toEqual(['database', 'gateway', 'policy_sidecar', 'queue', 'redis', 'upstream_connectors']);
    expect(Object.values(s.components).every((c) => c.status === 'healthy')).toBe(true);
  });

  it('GET /status answers 503 degraded while a gateway’s policy sidecar is down, and 200 again after', async () => {
    const gw = tb.gateways[tb.gateways.length - 1];
    if (gw === undefined) throw new Error('no gateway');
    await stopSidecar(tb, gw.id, 'SIGTERM');
    try {
      const r = await api('GET', '/status', { base: gw.url, tenant: newTenant('status') });
      expect(r.status, r.text).toBe(503);
      expect(r.body).toMatchObject({ status: 'degraded', components: { policy_sidecar: { status: 'down' }, database: { status: 'healthy' } } });
    } finally {
      await startSidecar(tb, gw.id);
    }
    await waitFor(async () => (await api('GET', '/status', { base: gw.url, tenant: newTenant('status') })).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: `${gw.id} /status healthy again`,
    });
  });

  it('GET /metrics returns the counters as JSON', async () => {
    const r = await api('GET', '/metrics', { tenant: newTenant('metrics') });
    expect(r.status).toBe(200);
    const m = z
      .object({
        gateway: z.string(),
        tool_invocations: z.object({ total: z.number() }).loose(),
        policy_evaluations: z.object({ total: z.number() }).loose(),
        audit_writes: z.object({ total: z.number(), failures: z.number() }),
        webhooks: z.object({ received: z.object({ total: z.number() }).loose() }).loose(),
        counters: z.record(z.string(), z.object({ total: z.number() }).loose()),
      })
      .loose()
      .parse(r.body);
    expect(Object.keys(m.counters)).toContain('openclaw_audit_writes_total');
    expect(m.audit_writes.failures).toBe(0);
  });
});

describe('auto-response', () => {
  const tenant = newTenant('auto');
  const Responded = z.object({ status: z.literal('responded'), id: z.uuid(), response: z.string().min(1), classifiedMs: z.number(), respondedMs: z.number(), auditId: z.uuid() }).loose();
  const Pending = z.object({ status: z.literal('pending'), id: z.uuid(), reason: z.string(), auditId: z.uuid() }).loose();
  const msg = (over: Record<string, string>) => ({ message: { from: 'pat@partner.example', channel: 'email', subject: 'Meeting', body: 'Can we schedule a call next week?', classification: 'internal', ...over } });
  const policyIds: string[] = [];

  afterAll(async () => {
    for (const id of policyIds) await api('DELETE', `/policies/${id}`, { tenant });
  });

  it('a low-risk message is answered at once (well within 30 s); a risky one waits for approval', async () => {
    const r = await api('POST', '/auto-response/trigger', { tenant, user: 'alice', body: msg({}) });
    expect(r.status, r.text).toBe(200);
    const done = Responded.parse(r.body);
    expect(done.respondedMs).toBeLessThan(30_000);
    expect(AuditEntry.parse((await api('GET', `/audit/${done.auditId}`, { tenant })).body)).toMatchObject({ action_type: 'auto_response', outcome: 'success', user_id: 'alice' });

    const p = await api('POST', '/auto-response/trigger', { tenant, user: 'alice', body: msg({ subject: 'URGENT: outage', body: 'prod is down' }) });
    expect(p.status, p.text).toBe(202);
    const pending = Pending.parse(p.body);
    expect(AuditEntry.parse((await api('GET', `/audit/${pending.auditId}`, { tenant })).body)).toMatchObject({ outcome: 'pending' });
    const list = z.object({ items: z.array(z.object({ id: z.string(), status: z.string() }).loose()), total: z.number() }).loose().parse((await api('GET', '/auto-response/pending', { tenant })).body);
    expect(list.items.map((i) => i.id)).toEqual([pending.id]);

    const ok = await api('POST', `/auto-response/${pending.id}/approve`, { tenant, user: 'lead', body: { note: 'fine', response: 'On it.' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', response: 'On it.', decided_by: 'lead' });
    expectError(await api('POST', `/auto-response/${pending.id}/approve`, { tenant, body: {} }), 409, 'ALREADY_DECIDED');
    expectError(await api('POST', `/auto-response/${pending.id}/reject`, { tenant }), 409, 'ALREADY_DECIDED');

    const p2 = Pending.parse((await api('POST', '/auto-response/trigger', { tenant, user: 'alice', body: msg({ subject: 'Contract', body: 'please review the invoice' }) })).body);
    const rej = await api('POST', `/auto-response/${p2.id}/reject`, { tenant, user: 'lead' });
    expect(rej.status, rej.text).toBe(200);
    expect(rej.body).toMatchObject({ status: 'rejected' });
    expect(z.object({ total: z.number() }).loose().parse((await api('GET', '/auto-response/pending', { tenant })).body).total).toBe(0);
    expectError(await api('POST', `/auto-response/${crypto.randomUUID()}/approve`, { tenant }), 404, 'NOT_FOUND');

    const trail = AuditPage.parse((await api('GET', '/audit', { tenant })).body).entries.map((e) => `${e.action_type}:${e.outcome}`);
    expect(trail).toEqual(['auto_response_reject:success', 'auto_response:pending', 'auto_response_approve:success', 'auto_response:pending', 'auto_response:success']);
  });

  it('each step is policy-checked: a deny answers 403 and is audited as denied', async () => {
    const user = `blocked-${crypto.randomBytes(3).toString('hex')}`;
    const created = Mutation.parse(
      (
        await api('POST', '/policies', {
          tenant,
          body: { scope: 'user', scopeId: user, domain: 'actions', name: `no-auto-${user}`, content: { rules: [{ effect: 'deny', actions: ['auto_response*'], reason: 'no auto-responses for this user' }] }, changeReason: 'it' },
        })
      ).body,
    );
    policyIds.push(created.policy.id);
    // Every sidecar behind the load balancer must have the change before the assertion.
    for (const s of tb.policies) {
      await waitFor(async () => z.object({ result: z.object({ revision: z.number() }).loose() }).parse(await (await fetch(`${s.url}/v1/data/system/revision`)).json()).result.revision >= created.revision, {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: `${s.id} to load revision ${created.revision}`,
      });
    }
    const r = await api('POST', '/auto-response/trigger', { tenant, user, body: msg({}) });
    const b = expectError(r, 403, 'POLICY_DENIED');
    expect(b.message).toBe('no auto-responses for this user');
    const denied = AuditPage.parse((await api('GET', `/audit?user_id=${user}`, { tenant })).body);
    expect(denied.entries.map((e) => [e.action_type, e.outcome, e.policy_result])).toEqual([['auto_response', 'denied', 'deny']]);
  });
});
