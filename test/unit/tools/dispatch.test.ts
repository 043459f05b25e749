import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorClient } from '../../../harness/gateway/connectors.ts';
import type { GatewayContext, PolicyDomain, PolicyInput } from '../../../harness/gateway/context.ts';
import { invokeTool, TOOL_NAMES, type ToolCall } from '../../../harness/gateway/tools/dispatch.ts';
import { UpstreamsConfigSchema } from '../../../harness/upstreams/config.ts';
import { buildUpstreams } from '../../../harness/upstreams/server.ts';
import { counterValue, recordingAudit, testContext } from './helpers.ts';

// invokeTool's contract without Redis or a database: policy first and fail-closed, exactly one
// audit entry per call, no success without an acknowledged audit entry.

let n = 0;
const call = (tool: string, args: Record<string, unknown> = {}): ToolCall => ({ tool, args, requestId: `req-${++n}`, userId: 'u-1', tenantId: 'acme', channel: 'http' });

describe('invokeTool', () => {
  const upstream = buildUpstreams(UpstreamsConfigSchema.parse({ port: 1, latencyMs: { base: 0, jitter: 0 } }));
  let url = '';
  beforeAll(async () => {
    await upstream.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(upstream.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await upstream.app.close();
  });
  const withConnectors = (ctx: GatewayContext): GatewayContext => ({ ...ctx, connectors: createConnectorClient(ctx) });

  it('knows the documented tools', () => {
    expect([...TOOL_NAMES].sort()).toEqual(
      ['calendar_read', 'calendar_search', 'email_read', 'email_search', 'gdrive_read', 'gdrive_search', 'generate_briefing', 'github_issue_read', 'github_pr_read', 'jira_read', 'jira_search', 'sessions_list', 'sessions_send'].sort(),
    );
  });

  it('asks the policy first (integrations domain for reads), runs the read, writes one audit entry, returns its id', async () => {
    const asked: Array<[PolicyDomain, PolicyInput]> = [];
    const audit = recordingAudit();
    const ctx = withConnectors(testContext({ upstreamUrl: url, audit, policy: { evaluate: async (d, i) => (asked.push([d, i]), { allow: true, reason: 'ok', policy: 'integrations/v3' }) } }));
    const c = call('email_search', { query: 'is:unread' });
    const r = await invokeTool(ctx, c);
    expect(r).toMatchObject({ ok: true, requestId: c.requestId, auditId: 'audit-1' });
    expect(asked).toEqual([['integrations', expect.objectContaining({ tenant_id: 'acme', user_id: 'u-1', action: 'email_search', data_classification: 'confidential', channel: 'http', target_system: 'gmail' })]]);
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({ request_id: c.requestId, action_type: 'email_search', outcome: 'success', policy_result: 'allow', policy_applied: 'integrations/v3' });
    expect((audit.entries[0]?.data_accessed ?? []).length).toBeGreaterThan(0);
    expect(await counterValue(ctx, 'openclaw_tool_invocations_total', { tool: 'email_search', outcome: 'ok' })).toBe(1);
  });

  it('a denial is 403 policy_denied, audited as denied, and the tool does not run', async () => {
    const audit = recordingAudit();
    const ctx = testContext({ audit, policy: { evaluate: async () => ({ allow: false, reason: 'gmail not allowed for this org', policy: 'integrations/v3' }) } });
    const r = await invokeTool(ctx, call('email_search', { query: 'x' }));
    expect(r).toMatchObject({ ok: false, status: 403, error: { type: 'policy_denied', message: 'gmail not allowed for this org' }, auditId: 'audit-1' });
    expect(audit.entries.map((e) => [e.outcome, e.policy_result])).toEqual([['denied', 'deny']]);
    expect(await counterValue(ctx, 'openclaw_tool_invocations_total', { tool: 'email_search', outcome: 'denied' })).toBe(1);
  });

  it('an unreachable sidecar fails closed with 503 policy_unavailable (also when the client throws)', async () => {
    for (const evaluate of [async () => ({ allow: false, error: true, reason: 'timeout after 5000 ms' }), async (): Promise<never> => Promise.reject(new Error('boom'))]) {
      const audit = recordingAudit();
      const r = await invokeTool(testContext({ audit, policy: { evaluate } }), call('generate_briefing'));
      expect(r).toMatchObject({ ok: false, status: 503, error: { type: 'policy_unavailable' } });
      expect(audit.entries.map((e) => [e.outcome, e.policy_result])).toEqual([['error', 'error']]);
    }
  });

  it('never reports success without an audit entry: 500 audit_unavailable', async () => {
    const audit = recordingAudit();
    audit.failing = true;
    const ctx = withConnectors(testContext({ upstreamUrl: url, audit }));
    const r = await invokeTool(ctx, call('jira_search', { jql: 'priority = High' }));
    expect(r).toEqual({ ok: false, status: 500, error: expect.objectContaining({ type: 'audit_unavailable' }), requestId: expect.any(String) });
    expect(await counterValue(ctx, 'openclaw_tool_invocations_total', { tool: 'jira_search', outcome: 'error' })).toBe(1);
  });

  it('unknown tool 404 and invalid arguments 400, each audited once, policy not asked', async () => {
    const audit = recordingAudit();
    let asked = 0;
    const ctx = testContext({ audit, policy: { evaluate: async () => (asked++, { allow: true, reason: 'ok' }) } });
    expect(await invokeTool(ctx, call('rm_rf'))).toMatchObject({ ok: false, status: 404, error: { type: 'tool_not_found' } });
    expect(await invokeTool(ctx, call('jira_search', { jql: '' }))).toMatchObject({ ok: false, status: 400, error: { type: 'invalid_args' } });
    expect(await invokeTool(ctx, call('sessions_send', { envelope: { version: '2.0' } }))).toMatchObject({ ok: false, status: 400, error: { type: 'invalid_args' } });
    expect(asked).toBe(0);
    expect(audit.entries.map((e) => [e.action_type, e.outcome, e.policy_result])).toEqual([
      ['tool_unknown', 'error', 'error'],
      ['jira_search', 'error', 'error'],
      ['sessions_send', 'error', 'error'],
    ]);
  });

  it('a connector failure is a typed error, audited as error', async () => {
    const audit = recordingAudit();
    const ctx = withConnectors(testContext({ upstreamUrl: url, audit }));
    const r = await invokeTool(ctx, call('gdrive_read', { id: 'does-not-exist' }));
    expect(r).toMatchObject({ ok: false, status: 404, error: { type: 'not_found' }, auditId: 'audit-1' });
    expect(audit.entries[0]).toMatchObject({ outcome: 'error', policy_result: 'allow' });
    expect(audit.entries[0]?.action_detail).toMatchObject({ error_type: 'not_found', connector: 'gdrive' });
  });
});
