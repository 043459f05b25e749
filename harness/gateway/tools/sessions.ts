import crypto from 'node:crypto';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import { buildReply, evaluateEnvelope, OcipEnvelopeSchema, type OcipRejection } from '../ocip.ts';
import type { ToolCall } from './dispatch.ts';
import { ToolError } from './errors.ts';
import { defineTool, UserIdArg } from './registry.ts';

const SESSION_HISTORY = 200;
const SESSION_TTL_S = 7 * 86_400;
const APPROVAL_TTL_S = 7 * 86_400;

const sessionsKey = (tenant: string, user: string) => `sessions:${tenant}:${user}`;

/**
 * Park a call for a human: `approval:<id>` (hash, 7 days) and `approvals:pending:<tenant>` (zset
 * by time). Whoever decides later reads the call back from there.
 */
export async function recordApproval(ctx: GatewayContext, call: ToolCall, kind: string, fields: Record<string, string>): Promise<string> {
  const approvalId = crypto.randomUUID();
  const k = `approval:${approvalId}`;
  const now = Date.now();
  const res = await ctx.redis
    .multi()
    .hset(k, {
      approval_id: approvalId,
      kind,
      status: 'pending',
      tenant_id: call.tenantId,
      user_id: call.userId,
      tool: call.tool,
      request_id: call.requestId,
      created_at: new Date(now).toISOString(),
      ...fields,
    })
    .expire(k, APPROVAL_TTL_S)
    .zadd(`approvals:pending:${call.tenantId}`, now, approvalId)
    .exec();
  if (res === null || res.some(([err]) => err !== null)) throw new ToolError(503, 'approval_store_unavailable', 'could not record the pending approval');
  return approvalId;
}

/** Remember that a user used a session key (what `sessions_list` shows), newest last-used first. */
export async function recordSession(ctx: GatewayContext, call: ToolCall): Promise<void> {
  if (call.sessionKey === undefined || call.sessionKey === '') return;
  const k = sessionsKey(call.tenantId, call.userId);
  await ctx.redis
    .multi()
    .zadd(k, Date.now(), call.sessionKey)
    .zremrangebyrank(k, 0, -(SESSION_HISTORY + 1))
    .expire(k, SESSION_TTL_S)
    .exec();
}

export const sessionsListTool = defineTool({
  name: 'sessions_list',
  domain: 'actions',
  schema: z.object({ user_id: UserIdArg, limit: z.number().int().min(1).max(SESSION_HISTORY).default(50) }),
  classification: 'internal',
  targetSystem: 'openclaw',
  async run(ctx, call, a) {
    const user = a.user_id ?? call.userId;
    const flat = await ctx.redis.zrevrange(sessionsKey(call.tenantId, user), 0, a.limit - 1, 'WITHSCORES');
    const sessions: Array<{ sessionKey: string; lastUsedAt: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      sessions.push({ sessionKey: flat[i] as string, lastUsedAt: new Date(Number(flat[i + 1])).toISOString() });
    }
    return { result: { count: sessions.length, sessions }, dataAccessed: sessions.map((s) => `session:${s.sessionKey}`) };
  },
});

const REJECTION_STATUS: Record<OcipRejection, number> = {
  cross_tenant_blocked: 403,
  envelope_expired: 422,
  classification_exceeds_can_share: 403,
  max_rounds_exceeded: 409,
};

export const sessionsSendTool = defineTool({
  name: 'sessions_send',
  domain: 'agent_exchange',
  schema: z.object({
    user_id: UserIdArg,
    envelope: OcipEnvelopeSchema,
    /** The target session (OpenClaw's sessions_send addresses a session); informational here. */
    sessionKey: z.string().max(256).optional(),
    message: z.string().max(65_536).optional(),
  }),
  classification: (a) => a.envelope.classification,
  targetSystem: 'ocip',
  handlesApproval: true,
  additional: (a, call) => {
    const e = a.envelope;
    const targetOrg = e.target_agent?.org_unit ?? null;
    return {
      conversation_id: e.conversation_id,
      exchange_round: e.exchange_round,
      max_rounds: e.max_rounds,
      message_type: e.message_type,
      reply_policy: e.reply_policy,
      requires_commitment: e.requires_commitment,
      source_tenant: e.source_agent.tenant_id,
      target_tenant: e.target_agent?.tenant_id ?? call.tenantId,
      // org_unit: the subject's org for org-scoped policies.
      org_unit: e.source_agent.org_unit,
      source_org_unit: e.source_agent.org_unit,
      target_org_unit: targetOrg,
      cross_org: targetOrg !== null && targetOrg !== e.source_agent.org_unit,
    };
  },
  async run(ctx, call, a, obligations) {
    const env = a.envelope;
    const now = Date.now();
    const decision = await evaluateEnvelope(env, {
      tenantId: call.tenantId,
      nowMs: now,
      async nextRound(conversationId, ttl) {
        const k = `ocip:round:${call.tenantId}:${conversationId}`;
        const res = await ctx.redis.multi().incr(k).expire(k, ttl).exec();
        const n = res?.[0]?.[1];
        if (res === null || res[0]?.[0] || typeof n !== 'number') throw new ToolError(503, 'exchange_state_unavailable', 'could not count the exchange round in Redis');
        return n;
      },
    });
    const detail = { conversation_id: env.conversation_id, exchange_round: env.exchange_round, message_type: env.message_type };
    if (decision.status === 'rejected') {
      throw new ToolError(REJECTION_STATUS[decision.reason], decision.reason, decision.message, 'denied', { ...detail, counted_round: decision.round ?? null });
    }
    // A policy obligation (require_approval) escalates what the envelope alone would not.
    const escalation = decision.status === 'escalated' ? decision.reasons : obligations.requireApproval ? ['policy_requires_approval'] : [];
    if (escalation.length > 0) {
      const approvalId = await recordApproval(ctx, call, 'ocip', {
        conversation_id: env.conversation_id,
        round: String(decision.round),
        reasons: escalation.join(','),
        envelope: JSON.stringify(env),
      });
      return {
        result: { status: 'escalated', approvalId, conversation_id: env.conversation_id, round: decision.round, reasons: escalation },
        dataAccessed: [`ocip:${env.conversation_id}`],
        outcome: 'pending',
        detail: { ...detail, approval_id: approvalId, reasons: escalation, round: decision.round },
      };
    }
    if (decision.status !== 'accepted') throw new ToolError(500, 'tool_error', 'unexpected OCIP decision');
    const responder = {
      instance_id: env.target_agent?.instance_id ?? `openclaw-${ctx.config.id}`,
      user_id: env.target_agent?.user_id ?? call.userId,
      org_unit: env.target_agent?.org_unit ?? env.source_agent.org_unit,
    };
    const reply = decision.replyExpected ? buildReply(env, decision.round, responder, now) : null;
    return {
      result: { status: 'accepted', conversation_id: env.conversation_id, round: decision.round, reply },
      dataAccessed: [`ocip:${env.conversation_id}`],
      detail: { ...detail, round: decision.round, replied: reply !== null },
    };
  },
});
