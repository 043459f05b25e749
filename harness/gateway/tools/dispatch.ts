import type { AuditEntryInput, GatewayContext, PolicyDecision, PolicyInput } from '../context.ts';
import { generateBriefingTool } from './briefing.ts';
import { calendarReadTool, calendarSearchTool } from './calendar.ts';
import { emailReadTool, emailSearchTool } from './email.ts';
import { toToolError, ToolError } from './errors.ts';
import { gdriveReadTool, gdriveSearchTool } from './gdrive.ts';
import { githubIssueReadTool, githubPrReadTool } from './github.ts';
import { jiraReadTool, jiraSearchTool } from './jira.ts';
import type { Tool, ToolOutput } from './registry.ts';
import { recordApproval, recordSession, sessionsListTool, sessionsSendTool } from './sessions.ts';

export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  sessionKey?: string;
  idempotencyKey?: string;
  /** Caller-supplied (X-Request-Id) or generated; becomes the audit entry's request_id. */
  requestId: string;
  userId: string;
  tenantId: string;
  channel: 'http' | 'ws';
}

export type ToolResult =
  | { ok: true; result: unknown; requestId: string; auditId: string }
  | { ok: false; status: number; error: { type: string; message: string }; requestId: string; auditId?: string };

export const TOOLS: ReadonlyMap<string, Tool> = new Map(
  [
    generateBriefingTool,
    emailSearchTool,
    emailReadTool,
    calendarReadTool,
    calendarSearchTool,
    jiraReadTool,
    jiraSearchTool,
    githubPrReadTool,
    githubIssueReadTool,
    gdriveSearchTool,
    gdriveReadTool,
    sessionsSendTool,
    sessionsListTool,
  ].map((t) => [t.name, t]),
);
export const TOOL_NAMES: readonly string[] = [...TOOLS.keys()];

/** Replays of the same idempotency key within this window get the stored answer. */
export const IDEMPOTENCY_TTL_S = 600;
const IDEMPOTENCY_LOCK_S = 120;

interface Stored {
  result: unknown;
  auditId: string;
  requestId: string;
  outcome: 'success' | 'pending';
}

/** Scalar arguments for the audit detail; nested values (envelopes, content) are summarised. */
function argsSummary(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === 'string') out[k] = v.length > 200 ? `${v.slice(0, 200)}…` : v;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v;
    else out[k] = Array.isArray(v) ? `[array ${v.length}]` : '[object]';
  }
  return out;
}

/**
 * One tool call: validate → policy (fail closed) → run → exactly one audit entry → answer. The
 * answer carries the audit id only once the store acknowledged the entry; if it cannot be
 * written the call fails with 500 audit_unavailable whatever the tool did.
 */
export async function invokeTool(ctx: GatewayContext, call: ToolCall): Promise<ToolResult> {
  const t0 = performance.now();
  const tool = TOOLS.get(call.tool);
  const label = tool?.name ?? 'unknown';
  let metricOutcome: 'ok' | 'denied' | 'error' = 'error';
  let decision: PolicyDecision | undefined;
  let idemKey: string | undefined;
  let lockHeld = false;

  const audit = async (
    outcome: AuditEntryInput['outcome'],
    status: number,
    extra: { classification?: string; dataAccessed?: unknown[]; detail?: Record<string, unknown>; error?: ToolError },
  ): Promise<{ id: string } | ToolResult> => {
    const entry: AuditEntryInput = {
      tenant_id: call.tenantId,
      user_id: call.userId,
      action_type: label === 'unknown' ? 'tool_unknown' : label,
      action_detail: {
        tool: call.tool,
        channel: call.channel,
        status,
        session_key: call.sessionKey ?? null,
        idempotency_key: call.idempotencyKey ?? null,
        duration_ms: Math.round(performance.now() - t0),
        args: argsSummary(call.args),
        ...(extra.error !== undefined ? { error_type: extra.error.type, error_message: extra.error.message.slice(0, 500), ...extra.error.detail } : {}),
        ...extra.detail,
      },
      data_accessed: (extra.dataAccessed ?? []).slice(0, 200),
      data_classification: extra.classification ?? 'internal',
      policy_applied: decision?.policy ?? null,
      policy_result: decision === undefined || decision.error === true ? 'error' : decision.allow ? 'allow' : 'deny',
      policy_reason: decision === undefined ? `not evaluated: ${extra.error?.type ?? 'unknown'}` : decision.reason,
      outcome,
      request_id: call.requestId,
    };
    try {
      const ack = await ctx.audit.write(entry);
      return { id: ack.id };
    } catch (err) {
      ctx.log.error('audit write failed', { requestId: call.requestId, tool: label, err: (err as Error).message });
      metricOutcome = 'error';
      return { ok: false, status: 500, error: { type: 'audit_unavailable', message: 'the audit entry could not be written; the call is not acknowledged' }, requestId: call.requestId };
    }
  };

  const fail = async (e: ToolError, classification?: string): Promise<ToolResult> => {
    const a = await audit(e.outcome, e.status, { classification, error: e });
    if (!('id' in a)) return a;
    metricOutcome = e.outcome === 'denied' ? 'denied' : 'error';
    return { ok: false, status: e.status, error: { type: e.type, message: e.message }, requestId: call.requestId, auditId: a.id };
  };

  try {
    if (tool === undefined) {
      return await fail(new ToolError(404, 'tool_not_found', `unknown tool '${call.tool.slice(0, 100)}'`));
    }
    const prep = tool.prepare(call.args, call);
    if (!prep.ok) return await fail(new ToolError(400, 'invalid_args', prep.message));
    const p = prep.tool;

    const input: PolicyInput = {
      tenant_id: call.tenantId,
      user_id: call.userId,
      action: tool.name,
      data_classification: p.classification,
      channel: call.channel,
      target_system: p.targetSystem,
      additional: { ...p.additional, request_id: call.requestId, session_key: call.sessionKey ?? null },
    };
    try {
      decision = await ctx.policy.evaluate(tool.domain, input);
    } catch (err) {
      // The client promises never to throw; if it does anyway, the answer is the same: closed.
      decision = { allow: false, error: true, reason: `policy client failed: ${(err as Error).message}` };
    }
    if (decision.error === true) {
      return await fail(new ToolError(503, 'policy_unavailable', `policy decision unavailable (${decision.reason}); failing closed`), p.classification);
    }
    if (!decision.allow) {
      return await fail(new ToolError(403, 'policy_denied', decision.reason || 'denied by policy', 'denied'), p.classification);
    }

    if (call.idempotencyKey !== undefined && call.idempotencyKey !== '') {
      idemKey = `idem:tool:${call.tenantId}:${call.userId}:${tool.name}:${call.idempotencyKey}`;
      let stored: string | null;
      try {
        stored = await ctx.redis.get(idemKey);
      } catch (err) {
        return await fail(new ToolError(503, 'idempotency_unavailable', `idempotency store unreachable: ${(err as Error).message}`), p.classification);
      }
      if (stored !== null) {
        const s = JSON.parse(stored) as Stored;
        const a = await audit(s.outcome, 200, { classification: p.classification, detail: { replayed: true, original_audit_id: s.auditId, original_request_id: s.requestId } });
        if (!('id' in a)) return a;
        metricOutcome = 'ok';
        return { ok: true, result: s.result, requestId: call.requestId, auditId: a.id };
      }
      const got = await ctx.redis.set(`${idemKey}:lock`, call.requestId, 'EX', IDEMPOTENCY_LOCK_S, 'NX').catch(() => null);
      if (got === null) {
        return await fail(new ToolError(409, 'idempotency_in_progress', 'a call with this idempotency key is still running'), p.classification);
      }
      lockHeld = true;
    }

    await recordSession(ctx, call).catch((err: unknown) => ctx.log.warn('session record failed', { err: (err as Error).message }));

    let out: ToolOutput;
    try {
      if (decision.requireApproval === true && !tool.handlesApproval) {
        // Allowed only with a human's approval: parked, not run.
        const approvalId = await recordApproval(ctx, call, 'tool', { args: JSON.stringify(argsSummary(call.args)), reason: decision.reason });
        out = { result: { status: 'escalated', approvalId, reasons: ['policy_requires_approval'] }, dataAccessed: [], outcome: 'pending', detail: { approval_id: approvalId } };
      } else {
        out = await p.run(ctx, call, { requireApproval: decision.requireApproval === true });
      }
    } catch (err) {
      return await fail(toToolError(err), p.classification);
    }
    const outcome = out.outcome ?? 'success';
    const a = await audit(outcome, 200, { classification: p.classification, dataAccessed: out.dataAccessed, detail: out.detail });
    if (!('id' in a)) return a;
    metricOutcome = 'ok';
    if (idemKey !== undefined) {
      const s: Stored = { result: out.result, auditId: a.id, requestId: call.requestId, outcome };
      await ctx.redis.set(idemKey, JSON.stringify(s), 'EX', IDEMPOTENCY_TTL_S).catch((err: unknown) => ctx.log.warn('idempotency store failed', { err: (err as Error).message }));
    }
    return { ok: true, result: out.result, requestId: call.requestId, auditId: a.id };
  } finally {
    if (lockHeld && idemKey !== undefined) await ctx.redis.del(`${idemKey}:lock`).catch(() => 0);
    ctx.metrics.toolInvocations.inc({ tool: label, outcome: metricOutcome });
    ctx.metrics.toolDuration.observe({ tool: label }, (performance.now() - t0) / 1000);
  }
}
