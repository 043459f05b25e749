// Tools through the real test bed: every tool via HAProxy, exactly one audit entry per call
// (looked up in the audit store by request id), policy denial and fail-closed, OCIP rules, and
// the connector burst under forced upstream 429s — with retries every read ends ok, with retries
// switched off some are lost (the control run that shows what the retry policy is for).
import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
const tokens = { gateway: readTokenFile(tb.tokenFiles.gateway), admin: readTokenFile(tb.tokenFiles.admin) };
const tenant = tb.tenantId ?? 'acme';
const lb = tb.lb.url;
const firstGateway = tb.gateways[0];
if (firstGateway === undefined) throw new Error('test bed has no gateway');

const AnswerSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown(), requestId: z.string(), auditId: z.string() }),
  z.object({ ok: z.literal(false), error: z.object({ type: z.string(), message: z.string() }), requestId: z.string(), auditId: z.string().optional() }),
]);
type Answer = z.infer<typeof AnswerSchema> & { status: number };

interface InvokeOpts {
  user?: string;
  base?: string;
  sessionKey?: string;
  idempotencyKey?: string;
}

const issued: string[] = [];

async function invoke(tool: string, args: Record<string, unknown> = {}, o: InvokeOpts = {}): Promise<Answer> {
  const requestId = `it-${crypto.randomUUID()}`;
  issued.push(requestId);
  const r = await fetch(`${o.base ?? lb}/tools/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.gateway}`, 'content-type': 'application/json', 'x-request-id': requestId, 'x-user-id': o.user ?? 'u-it-1' },
    body: JSON.stringify({ tool, args, sessionKey: o.sessionKey, idempotencyKey: o.idempotencyKey }),
  });
  const body = AnswerSchema.parse(await r.json());
  expect(body.requestId).toBe(requestId);
  return { ...body, status: r.status };
}

function okResult<T>(a: Answer, schema: z.ZodType<T>): T {
  if (!a.ok) throw new Error(`expected ok, got ${a.status} ${a.error.type}: ${a.error.message}`);
  expect(a.status).toBe(200);
  return schema.parse(a.result);
}

let db: pg.Pool;
interface AuditRow {
  id: string;
  request_id: string;
  action_type: string;
  outcome: string;
  policy_result: string;
}
async function auditRows(requestIds: string[]): Promise<AuditRow[]> {
  const r = await db.query<AuditRow>('SELECT id::text AS id, request_id, action_type, outcome, policy_result FROM audit.audit_entries WHERE request_id = ANY($1::text[])', [requestIds]);
  return r.rows;
}
/** The call's one audit entry; its id is the auditId the answer carried. */
async function auditOf(a: Answer): Promise<AuditRow> {
  const rows = await auditRows([a.requestId]);
  expect(rows, `audit entries for ${a.requestId}`).toHaveLength(1);
  const row = rows[0] as AuditRow;
  expect(row.id).toBe(a.auditId);
  return row;
}

async function adminFetch(url: string, method: string, body?: unknown): Promise<unknown> {
  const r = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${tokens.admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  expect(r.status, `${method} ${url}: ${text}`).toBeLessThan(300);
  return text === '' ? null : JSON.parse(text);
}

function envelope(over: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    message_type: 'information_query',
    source_agent: { instance_id: 'agent-it', user_id: 'u-it-1', org_unit: 'engineering', tenant_id: tenant },
    classification: 'internal',
    conversation_id: `conv-${crypto.randomUUID()}`,
    exchange_round: 1,
    max_rounds: 3,
    capabilities: { can_commit: false, can_share: ['public', 'internal'] },
    reply_policy: 'agent-ok',
    requires_commitment: false,
    expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    content: 'What is the status of the payments migration?',
    ...over,
  };
}

beforeAll(() => {
  db = new pg.Pool({ connectionString: tb.database.url, max: 2 });
});
afterAll(async () => {
  await db.end();
});

describe('tools through HAProxy', () => {
  const Briefing = z.object({
    briefingId: z.uuid(),
    tasks: z.array(z.object({ id: z.string(), score: z.number().min(0).max(100) })).max(20),
    freeBlocks: z.array(z.object({ start: z.string(), end: z.string() })),
    sources: z.object({ gmail: z.number(), calendar: z.number(), jira: z.number(), github: z.number(), gdrive: z.number() }),
  });

  it('generate_briefing reads all five connectors, ranks ≤ 20 tasks, stores the briefing, is deterministic', async () => {
    const date = new Date().toISOString().slice(0, 10);
    const a = await invoke('generate_briefing', { date });
    const b = okResult(a, Briefing);
    for (const n of Object.values(b.sources)) expect(n).toBeGreaterThan(0);
    expect(b.tasks).toHaveLength(20);
    for (let i = 1; i < b.tasks.length; i++) expect((b.tasks[i - 1]?.score ?? 0) >= (b.tasks[i]?.score ?? 0)).toBe(true);
    const stored = await db.query('SELECT user_id, tenant_id FROM app.briefings WHERE id = $1', [b.briefingId]);
    expect(stored.rows).toEqual([{ user_id: 'u-it-1', tenant_id: tenant }]);
    expect(await auditOf(a)).toMatchObject({ action_type: 'generate_briefing', outcome: 'success', policy_result: 'allow' });
    const again = okResult(await invoke('generate_briefing', { date }), Briefing);
    expect(again.tasks).toEqual(b.tasks);
    expect(again.freeBlocks).toEqual(b.freeBlocks);
  });

  it('every connector read tool answers through the retrying connector client, each call audited once', async () => {
    const Any = z.record(z.string(), z.unknown());
    const emails = okResult(await invoke('email_search', { query: 'is:unread' }), z.object({ messages: z.array(z.object({ id: z.string() })).min(1) }));
    okResult(await invoke('email_read', { id: emails.messages[0]?.id }), z.object({ message: Any }));
    okResult(await invoke('calendar_read', {}), z.object({ events: z.array(Any), freeBlocks: z.array(Any) }));
    okResult(await invoke('calendar_search', { query: '' }), z.object({ events: z.array(Any).min(1) }));
    const issues = okResult(await invoke('jira_read', {}), z.object({ issues: z.array(z.object({ key: z.string() })).min(1) }));
    okResult(await invoke('jira_read', { key: issues.issues[0]?.key }), z.object({ issue: Any }));
    okResult(await invoke('jira_search', { jql: 'statusCategory != Done' }), z.object({ issues: z.array(Any).min(1) }));
    const prs = okResult(await invoke('github_pr_read', {}), z.object({ pulls: z.array(z.object({ number: z.number(), repo: z.string().nullable() })) }));
    const pr = prs.pulls.find((p) => p.repo !== null);
    if (pr !== undefined) okResult(await invoke('github_pr_read', { repo: pr.repo, number: pr.number }), z.object({ pull: Any }));
    okResult(await invoke('github_issue_read', {}), z.object({ issues: z.array(Any) }));
    const files = okResult(await invoke('gdrive_search', { query: '' }), z.object({ files: z.array(z.object({ id: z.string() })).min(1) }));
    okResult(await invoke('gdrive_read', { id: files.files[0]?.id }), z.object({ file: Any }));
    const missing = await invoke('email_read', { id: 'no-such-message' });
    expect(missing).toMatchObject({ ok: false, status: 404, error: { type: 'not_found' } });
    expect(await auditOf(missing)).toMatchObject({ outcome: 'error' });
  });

  it('unknown tools and bad arguments are refused, and still audited', async () => {
    const unknown = await invoke('format_disk');
    expect(unknown).toMatchObject({ ok: false, status: 404, error: { type: 'tool_not_found' } });
    const bad = await invoke('jira_search', { jql: 42 });
    expect(bad).toMatchObject({ ok: false, status: 400, error: { type: 'invalid_args' } });
    expect((await auditOf(unknown)).outcome).toBe('error');
    expect((await auditOf(bad)).outcome).toBe('error');
  });

  it('sessions_send enforces OCIP: 3 rounds then max_rounds_exceeded, cross-tenant blocked, commitments escalated (pending)', async () => {
    const conv = `conv-${crypto.randomUUID()}`;
    const answers: Answer[] = [];
    for (const round of [1, 2, 3, 3]) answers.push(await invoke('sessions_send', { envelope: envelope({ conversation_id: conv, exchange_round: round }) }, { sessionKey: 'agent:it:s1' }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 409]);
    expect(answers[3]).toMatchObject({ ok: false, error: { type: 'max_rounds_exceeded' } });
    expect(await auditOf(answers[3] as Answer)).toMatchObject({ outcome: 'denied' });

    const cross = await invoke('sessions_send', { envelope: envelope({ target_agent: { tenant_id: 'globex-inc' } }) });
    expect(cross).toMatchObject({ ok: false, status: 403, error: { type: 'cross_tenant_blocked' } });

    const esc = await invoke('sessions_send', { envelope: envelope({ message_type: 'commitment_request', requires_commitment: true }) });
    const escalated = okResult(esc, z.object({ status: z.literal('escalated'), approvalId: z.uuid() }));
    expect(escalated.approvalId).toBeDefined();
    expect(await auditOf(esc)).toMatchObject({ outcome: 'pending' });

    const expired = await invoke('sessions_send', { envelope: envelope({ expires_at: '2020-01-01T00:00:00Z' }) });
    expect(expired).toMatchObject({ ok: false, error: { type: 'envelope_expired' } });
  });

  it('sessions_list shows the session keys the user used', async () => {
    const key = `agent:it:${crypto.randomUUID()}`;
    okResult(await invoke('calendar_read', {}, { user: 'u-it-sessions', sessionKey: key }), z.unknown());
    const list = okResult(await invoke('sessions_list', {}, { user: 'u-it-sessions' }), z.object({ sessions: z.array(z.object({ sessionKey: z.string() })) }));
    expect(list.sessions[0]?.sessionKey).toBe(key);
  });

  it('an idempotency key replays the stored result without running the tool again (each call still audited)', async () => {
    const idempotencyKey = crypto.randomUUID();
    const conv = `conv-${crypto.randomUUID()}`;
    const first = await invoke('sessions_send', { envelope: envelope({ conversation_id: conv }) }, { idempotencyKey });
    const second = await invoke('sessions_send', { envelope: envelope({ conversation_id: conv }) }, { idempotencyKey });
    expect(second.ok && first.ok && second.result).toEqual(first.ok && first.result);
    // Had it run again, the conversation would be at round 2.
    const next = okResult(await invoke('sessions_send', { envelope: envelope({ conversation_id: conv, exchange_round: 2 }) }), z.object({ round: z.number() }));
    expect(next.round).toBe(2);
    expect(first.auditId).not.toBe(second.auditId);
    await auditOf(first);
    await auditOf(second);
  });

  it('every answer that carried an audit id has exactly one entry in the store', async () => {
    const rows = await auditRows(issued);
    const perRequest = new Map<string, number>();
    for (const r of rows) perRequest.set(r.request_id, (perRequest.get(r.request_id) ?? 0) + 1);
    expect([...perRequest.values()].every((n) => n === 1)).toBe(true);
    expect(perRequest.size).toBe(issued.length);
  });
});

describe('policy', () => {
  // A user-scoped policy for one test user, written straight into the policy store (the
  // revision trigger makes every sidecar reload it): drive reads denied, calendar reads only with
  // a human's approval.
  const policyId = crypto.randomUUID();
  const USER = `u-it-restricted-${policyId.slice(0, 8)}`;
  const content = {
    rules: [
      { id: 'it-deny-drive', effect: 'deny', actions: ['gdrive_*'], reason: 'integration test: drive is off limits for this user' },
      { id: 'it-approve-calendar', effect: 'require_approval', actions: ['calendar_read'], reason: 'integration test: calendar reads need approval' },
    ],
  };
  const ask = async (url: string, action: string) => {
    const r = await fetch(`${url}/v1/data/openclaw/enterprise/integrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { tenant_id: tenant, user_id: USER, action, data_classification: 'confidential', channel: 'http', target_system: 'gdrive', additional: {} } }),
    });
    return z.object({ result: z.object({ allow: z.boolean() }).loose() }).parse(await r.json()).result.allow;
  };

  beforeAll(async () => {
    await db.query(
      `INSERT INTO policy.policies (id, tenant_id, scope, scope_id, domain, name, version, content, change_reason)
       VALUES ($1, $2, 'user', $3, 'integrations', $4, 1, $5::jsonb, 'integration test of tool policy enforcement')`,
      [policyId, tenant, USER, `it-tools-${policyId.slice(0, 8)}`, JSON.stringify(content)],
    );
    for (const p of tb.policies) {
      await waitFor(async () => (await ask(p.url, 'gdrive_search')) === false, { timeoutMs: 60_000, intervalMs: 200, what: `sidecar ${p.id} to load the test policy` });
    }
  });
  afterAll(async () => {
    await db.query('DELETE FROM policy.policies WHERE id = $1', [policyId]);
  });

  it('a denial answers 403 policy_denied and is audited as denied; the tool does not run', async () => {
    const a = await invoke('gdrive_search', { query: 'design' }, { user: USER });
    expect(a).toMatchObject({ ok: false, status: 403, error: { type: 'policy_denied' } });
    expect(await auditOf(a)).toMatchObject({ outcome: 'denied', policy_result: 'deny' });
    // Other users are unaffected.
    okResult(await invoke('gdrive_search', { query: 'design' }), z.unknown());
  });

  it('a require_approval obligation parks the call for a human (pending), without running it', async () => {
    const a = await invoke('calendar_read', {}, { user: USER });
    const r = okResult(a, z.object({ status: z.literal('escalated'), approvalId: z.uuid(), reasons: z.array(z.string()) }));
    expect(r.reasons).toEqual(['policy_requires_approval']);
    expect(await auditOf(a)).toMatchObject({ outcome: 'pending', policy_result: 'allow' });
  });

  it('with its sidecar stopped a gateway fails closed: 503 policy_unavailable, audited', async () => {
    const gw = firstGateway;
    await stopSidecar(tb, gw.id, 'SIGTERM');
    try {
      const a = await invoke('email_search', { query: 'x' }, { base: gw.url });
      expect(a).toMatchObject({ ok: false, status: 503, error: { type: 'policy_unavailable' } });
      expect(await auditOf(a)).toMatchObject({ outcome: 'error', policy_result: 'error' });
    } finally {
      await startSidecar(tb, gw.id);
    }
    await waitFor(async () => (await invoke('email_search', { query: 'x' }, { base: gw.url })).ok, { timeoutMs: 30_000, intervalMs: 250, what: `${gw.id} to answer again after its sidecar restarted` });
  });
});

describe('connector burst with forced upstream 429s', () => {
  const upstreamAdmin = `${tb.upstreams.url}/admin`;
  let saved: unknown;
  const READS: Array<[string, Record<string, unknown>]> = [
    ['email_search', { query: '' }],
    ['calendar_read', {}],
    ['jira_search', { jql: 'statusCategory != Done' }],
    ['github_pr_read', {}],
    ['gdrive_search', { query: '' }],
  ];
  const USERS = 40;
  // Shared (app) budgets far below a 200-read burst: most first attempts get 429.
  const TIGHT = {
    limits: Object.fromEntries(['gmail', 'calendar', 'jira', 'github', 'gdrive'].map((p) => [p, { perApp: { capacity: p === 'gmail' ? 50 : 10, refillPerSec: p === 'gmail' ? 100 : 20 } }])),
  };

  const setRetries = (retries: boolean) => Promise.all(tb.gateways.map((g) => adminFetch(`${g.url}/admin/connectors`, 'PATCH', { retries })));
  async function gatewayCounter(name: string): Promise<number> {
    let sum = 0;
    for (const g of tb.gateways) {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      for (const line of text.split('\n')) if (line.startsWith(`${name}{`)) sum += Number(line.split(' ').pop());
    }
    return sum;
  }
  const upstream429s = async () => z.object({ totals: z.object({ rateLimited: z.number() }) }).parse(await adminFetch(`${upstreamAdmin}/stats`, 'GET')).totals.rateLimited;
  const burst = () => Promise.all(Array.from({ length: USERS }, (_, u) => READS.map(([tool, args]) => invoke(tool, args, { user: `u-burst-${u}` }))).flat());

  beforeAll(async () => {
    saved = await adminFetch(`${upstreamAdmin}/config`, 'GET');
  });
  afterAll(async () => {
    await setRetries(true);
    await adminFetch(`${upstreamAdmin}/config`, 'PUT', saved);
  });

  it('with retries every read ends ok, 429s queued and retried, none lost', async () => {
    await setRetries(true);
    await adminFetch(`${upstreamAdmin}/config`, 'PUT', TIGHT);
    const [r429, retries] = [await upstream429s(), await gatewayCounter('openclaw_connector_retries_total')];
    const answers = await burst();
    const failed = answers.filter((a) => !a.ok);
    expect(failed.map((a) => (a.ok ? '' : `${a.status} ${a.error.type}`))).toEqual([]);
    expect(await upstream429s()).toBeGreaterThan(r429);
    expect(await gatewayCounter('openclaw_connector_retries_total')).toBeGreaterThan(retries);
    const rows = await auditRows(answers.map((a) => a.requestId));
    expect(rows).toHaveLength(answers.length);
  });

  it('with retries switched off the same burst loses reads (typed 503s, still audited)', async () => {
    await setRetries(false);
    // Re-applying the limits refills the buckets: the same starting point as the run above.
    await adminFetch(`${upstreamAdmin}/config`, 'PUT', TIGHT);
    const answers = await burst();
    const failed = answers.filter((a) => !a.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const a of failed) expect(a).toMatchObject({ status: 503, error: { type: 'connector_rate_limited' } });
    expect((await auditRows(failed.map((a) => a.requestId))).every((r) => r.outcome === 'error')).toBe(true);
  });
});
