import { describe, expect, it } from 'vitest';
import { buildReply, evaluateEnvelope, OcipEnvelopeSchema, type OcipContext, type OcipEnvelope } from '../../../harness/gateway/ocip.ts';

const NOW = Date.parse('2026-03-10T08:00:00Z');

function envelope(over: Partial<OcipEnvelope> = {}): OcipEnvelope {
  return {
    version: '1.0',
    message_type: 'information_query',
    source_agent: { instance_id: 'agent-a', user_id: 'alice', org_unit: 'engineering', tenant_id: 'acme' },
    classification: 'internal',
    conversation_id: 'conv-1',
    exchange_round: 1,
    max_rounds: 3,
    capabilities: { can_commit: false, can_share: ['public', 'internal'] },
    reply_policy: 'agent-ok',
    requires_commitment: false,
    expires_at: '2026-03-10T20:00:00.000Z',
    content: 'What is the status of PAY-412?',
    ...over,
  };
}

/** The Redis INCR counter, in memory. */
function counter(): OcipContext['nextRound'] & { calls: number } {
  const rounds = new Map<string, number>();
  const f = Object.assign(
    async (id: string) => {
      f.calls++;
      const n = (rounds.get(id) ?? 0) + 1;
      rounds.set(id, n);
      return n;
    },
    { calls: 0 },
  );
  return f;
}

const ctx = (nextRound = counter()): OcipContext => ({ tenantId: 'acme', nowMs: NOW, nextRound });

describe('OCIP envelope schema', () => {
  it('accepts the protocol reference example', () => {
    expect(OcipEnvelopeSchema.safeParse(envelope()).success).toBe(true);
  });

  it.each([
    ['version 2.0', { version: '2.0' }],
    ['max_rounds above 3', { max_rounds: 4 }],
    ['unknown classification', { classification: 'secret' }],
    ['unknown reply policy', { reply_policy: 'whatever' }],
    ['expires_at not ISO', { expires_at: 'tomorrow' }],
    ['round 0', { exchange_round: 0 }],
    ['source agent without tenant', { source_agent: { instance_id: 'a', user_id: 'b', org_unit: 'c' } }],
    ['capabilities missing can_share', { capabilities: { can_commit: false } }],
  ])('rejects %s', (_what, over) => {
    expect(OcipEnvelopeSchema.safeParse({ ...envelope(), ...over }).success).toBe(false);
  });
});

describe('OCIP rules', () => {
  it('allows at most max_rounds per conversation: round 4 is rejected', async () => {
    const c = ctx();
    const results = [];
    for (let i = 1; i <= 4; i++) results.push(await evaluateEnvelope(envelope({ exchange_round: Math.min(i, 3) }), c));
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'rejected']);
    expect(results[3]).toMatchObject({ reason: 'max_rounds_exceeded', round: 4 });
    // A different conversation has its own counter.
    expect(await evaluateEnvelope(envelope({ conversation_id: 'conv-2' }), c)).toMatchObject({ status: 'accepted', round: 1 });
  });

  it('a smaller max_rounds is honoured, and a claimed round beyond it is rejected without counting', async () => {
    const next = counter();
    const c = ctx(next);
    expect(await evaluateEnvelope(envelope({ max_rounds: 1 }), c)).toMatchObject({ status: 'accepted', round: 1, replyExpected: false });
    expect(await evaluateEnvelope(envelope({ max_rounds: 1 }), c)).toMatchObject({ status: 'rejected', reason: 'max_rounds_exceeded' });
    const before = next.calls;
    expect(await evaluateEnvelope(envelope({ conversation_id: 'c9', exchange_round: 3, max_rounds: 2 }), c)).toMatchObject({ reason: 'max_rounds_exceeded' });
    expect(next.calls).toBe(before);
  });

  it('blocks cross-tenant exchanges before anything else, and does not count them', async () => {
    const next = counter();
    const expired = { expires_at: '2020-01-01T00:00:00Z' };
    const other = { source_agent: { instance_id: 'x', user_id: 'bob', org_unit: 'sales', tenant_id: 'globex' }, ...expired };
    expect(await evaluateEnvelope(envelope(other), ctx(next))).toMatchObject({ status: 'rejected', reason: 'cross_tenant_blocked' });
    expect(await evaluateEnvelope(envelope({ target_agent: { tenant_id: 'globex' } }), ctx(next))).toMatchObject({ reason: 'cross_tenant_blocked' });
    expect(next.calls).toBe(0);
    // Same tenant, other org unit: not blocked here (a policy question, asked of the sidecar).
    expect(await evaluateEnvelope(envelope({ target_agent: { tenant_id: 'acme', org_unit: 'sales' } }), ctx(next))).toMatchObject({ status: 'accepted' });
  });

  it('rejects expired envelopes and classifications outside can_share', async () => {
    expect(await evaluateEnvelope(envelope({ expires_at: '2026-03-10T08:00:00Z' }), ctx())).toMatchObject({ reason: 'envelope_expired' });
    expect(await evaluateEnvelope(envelope({ classification: 'confidential' }), ctx())).toMatchObject({ reason: 'classification_exceeds_can_share' });
  });

  it.each([
    ['requires_commitment', { requires_commitment: true }, ['requires_commitment']],
    ['commitment_request', { message_type: 'commitment_request' as const }, ['commitment_request']],
    ['meeting_scheduling', { message_type: 'meeting_scheduling' as const, reply_policy: 'human-only' as const }, ['meeting_scheduling', 'reply_policy_human_only']],
  ])('escalates %s to a human instead of answering', async (_what, over, reasons) => {
    expect(await evaluateEnvelope(envelope(over), ctx())).toEqual({ status: 'escalated', round: 1, reasons });
  });

  it('builds the automatic reply as the next round of the same conversation', () => {
    const env = envelope();
    const reply = buildReply(env, 1, { instance_id: 'agent-b', user_id: 'bob', org_unit: 'engineering' }, NOW);
    expect(OcipEnvelopeSchema.safeParse(reply).success).toBe(true);
    expect(reply).toMatchObject({ conversation_id: 'conv-1', exchange_round: 2, capabilities: { can_commit: false }, target_agent: env.source_agent, requires_commitment: false });
  });
});
