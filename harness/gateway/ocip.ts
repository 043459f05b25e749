import { z } from 'zod';

// OCIP (OpenClaw Interchange Protocol) v1.0: the envelope agents put on `sessions_send`, and the
// receiving gateway's rules. Rule order follows the protocol reference: cross-enterprise blocking
// comes before anything else, then expiry, the classification ceiling, the round limit (counted
// per conversation by an atomic counter the caller supplies — Redis INCR in the gateway) and
// finally the human-escalation signals. `evaluateEnvelope` is pure given that counter.

export const MAX_ROUNDS = 3;
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];
/** Who wrote the message (protocol reference) and the exchange types of its semantics table. */
export const MESSAGE_TYPES = ['agent-generated', 'agent-assisted', 'human', 'information_query', 'commitment_request', 'meeting_scheduling'] as const;
export const REPLY_POLICIES = ['agent-ok', 'human-only', 'no-reply-needed'] as const;

const Id = z.string().min(1).max(200);
export const AgentRefSchema = z.object({
  instance_id: Id,
  user_id: Id,
  org_unit: Id,
  tenant_id: Id,
});
export const TargetAgentSchema = z.object({
  instance_id: Id.optional(),
  user_id: Id.optional(),
  org_unit: Id.optional(),
  tenant_id: Id,
});

export const OcipEnvelopeSchema = z.object({
  version: z.literal('1.0'),
  message_type: z.enum(MESSAGE_TYPES),
  source_agent: AgentRefSchema,
  target_agent: TargetAgentSchema.optional(),
  classification: z.enum(CLASSIFICATIONS),
  conversation_id: Id,
  exchange_round: z.number().int().min(1),
  max_rounds: z.number().int().min(1).max(MAX_ROUNDS),
  capabilities: z.object({
    can_commit: z.boolean(),
    can_share: z.array(z.enum(CLASSIFICATIONS)),
  }),
  reply_policy: z.enum(REPLY_POLICIES),
  requires_commitment: z.boolean(),
  expires_at: z.iso.datetime({ offset: true }),
  content: z.union([z.string().max(65_536), z.record(z.string(), z.unknown())]).optional(),
});
export type OcipEnvelope = z.output<typeof OcipEnvelopeSchema>;

export type OcipRejection =
  | 'cross_tenant_blocked'
  | 'envelope_expired'
  | 'classification_exceeds_can_share'
  | 'max_rounds_exceeded';

export type OcipDecision =
  | { status: 'rejected'; reason: OcipRejection; message: string; round?: number }
  | { status: 'escalated'; round: number; reasons: string[] }
  | { status: 'accepted'; round: number; replyExpected: boolean };

export interface OcipContext {
  /** Tenant of the gateway / the calling user: the only tenant an exchange may live in. */
  tenantId: string;
  nowMs: number;
  /**
   * Atomically count this message in its conversation and return the count (1 for the first).
   * Called only for messages that passed the cheaper checks, so rejected ones do not use rounds.
   */
  nextRound(conversationId: string, ttlSeconds: number): Promise<number>;
}

/** Escalation signals (protocol reference, "Commitment Detection" and "Reply Policies"). */
export function escalationReasons(env: OcipEnvelope): string[] {
  const r: string[] = [];
  if (env.requires_commitment) r.push('requires_commitment');
  if (env.message_type === 'commitment_request') r.push('commitment_request');
  if (env.message_type === 'meeting_scheduling') r.push('meeting_scheduling');
  if (env.reply_policy === 'human-only') r.push('reply_policy_human_only');
  return r;
}

export async function evaluateEnvelope(env: OcipEnvelope, c: OcipContext): Promise<OcipDecision> {
  const src = env.source_agent.tenant_id;
  const dst = env.target_agent?.tenant_id ?? c.tenantId;
  if (src !== c.tenantId || dst !== c.tenantId) {
    return { status: 'rejected', reason: 'cross_tenant_blocked', message: `cross-enterprise exchange blocked (source ${src}, target ${dst}, gateway ${c.tenantId})` };
  }
  const expires = Date.parse(env.expires_at);
  if (!(expires > c.nowMs)) {
    return { status: 'rejected', reason: 'envelope_expired', message: `envelope expired at ${env.expires_at}` };
  }
  if (!env.capabilities.can_share.includes(env.classification)) {
    return {
      status: 'rejected',
      reason: 'classification_exceeds_can_share',
      message: `classification ${env.classification} is not in can_share [${env.capabilities.can_share.join(', ')}]`,
    };
  }
  const limit = Math.min(env.max_rounds, MAX_ROUNDS);
  if (env.exchange_round > limit) {
    return { status: 'rejected', reason: 'max_rounds_exceeded', message: `exchange_round ${env.exchange_round} exceeds max_rounds ${limit}`, round: env.exchange_round };
  }
  // The counter lives as long as the exchange may (at most a day past now), so it cannot be reset by waiting.
  const ttl = Math.max(60, Math.min(86_400 * 7, Math.ceil((expires - c.nowMs) / 1000) + 86_400));
  const round = await c.nextRound(env.conversation_id, ttl);
  if (round > limit) {
    return { status: 'rejected', reason: 'max_rounds_exceeded', message: `conversation ${env.conversation_id} already had ${limit} rounds (this is round ${round})`, round };
  }
  const reasons = escalationReasons(env);
  if (reasons.length > 0) return { status: 'escalated', round, reasons };
  // The last allowed round ends the exchange: no automatic reply that would open round limit+1.
  return { status: 'accepted', round, replyExpected: env.reply_policy === 'agent-ok' && round < limit };
}

/** The automatic reply of an accepted agent-ok exchange (next round, same conversation). */
export function buildReply(env: OcipEnvelope, round: number, responder: { instance_id: string; user_id: string; org_unit: string }, nowMs: number): OcipEnvelope {
  return {
    version: '1.0',
    message_type: 'agent-generated',
    source_agent: { ...responder, tenant_id: env.source_agent.tenant_id },
    target_agent: { ...env.source_agent },
    classification: env.classification,
    conversation_id: env.conversation_id,
    exchange_round: round + 1,
    max_rounds: env.max_rounds,
    capabilities: { can_commit: false, can_share: [...env.capabilities.can_share] },
    reply_policy: round + 1 >= env.max_rounds ? 'no-reply-needed' : 'agent-ok',
    requires_commitment: false,
    expires_at: new Date(Math.min(Date.parse(env.expires_at), nowMs + 86_400_000)).toISOString(),
    content: `Acknowledged (round ${round}/${env.max_rounds}). Sent by user's OpenClaw assistant.`,
  };
}
