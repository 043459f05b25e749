import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { auditedMutation, query } from '../audit.ts';
import type { AuditEntryInput, GatewayContext, PolicyDecision } from '../context.ts';
import { classify, IncomingMessageSchema, type Classification, type IncomingMessage } from './classify.ts';
import { API_PREFIX, ApiError, guard, handle, parseOr400, requireUuid, type ApiScope } from './common.ts';
import { PageSchema } from './params.ts';

// Auto-response: classify an incoming message, then answer at once (low risk, high confidence)
// or queue it for a human. Every step (trigger, approve, reject) is policy-checked in domain
// `actions` and audited; a policy engine that cannot answer blocks the step (fail closed).

const TriggerSchema = z.object({ message: IncomingMessageSchema }).strict();
const DecisionBodySchema = z
  .object({
    note: z.string().max(2_000).optional(),
    /** Approve only: an edited reply replaces the draft. */
    response: z.string().min(1).max(20_000).optional(),
  })
  .strict()
  .nullish();

const RowSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  user_id: z.string(),
  request_id: z.string(),
  created_at: z.date(),
  status: z.enum(['pending', 'responded', 'approved', 'rejected']),
  message: z.unknown(),
  category: z.string(),
  confidence: z.number(),
  risk: z.string(),
  draft_response: z.string(),
  reason: z.string().nullable(),
  decided_at: z.date().nullable(),
  decided_by: z.string().nullable(),
  decision_note: z.string().nullable(),
});
type Row = z.infer<typeof RowSchema>;

const COLUMNS = 'id, tenant_id, user_id, request_id, created_at, status, message, category, confidence, risk, draft_response, reason, decided_at, decided_by, decision_note';

function itemJson(r: Row) {
  return {
    id: r.id,
    status: r.status,
    user_id: r.user_id,
    request_id: r.request_id,
    created_at: r.created_at.toISOString(),
    message: r.message,
    category: r.category,
    confidence: r.confidence,
    risk: r.risk,
    draft_response: r.draft_response,
    reason: r.reason,
    decided_at: r.decided_at?.toISOString() ?? null,
    decided_by: r.decided_by,
    decision_note: r.decision_note,
  };
}

function baseEntry(scope: ApiScope, actionType: string, classification: string, detail: Record<string, unknown>, decision: PolicyDecision): Omit<AuditEntryInput, 'outcome'> {
  return {
    tenant_id: scope.tenant,
    user_id: scope.actor,
    action_type: actionType,
    action_detail: detail,
    data_accessed: [],
    data_classification: classification,
    policy_applied: decision.policy ?? null,
    policy_result: decision.error ? 'error' : decision.allow ? 'allow' : 'deny',
    policy_reason: decision.reason,
    request_id: scope.requestId,
  };
}

/** Refuse a step the policy did not allow, auditing the refusal; returns true when refused. */
async function refused(ctx: GatewayContext, reply: FastifyReply, entry: Omit<AuditEntryInput, 'outcome'>, decision: PolicyDecision): Promise<boolean> {
  if (decision.allow && !decision.error) return false;
  try {
    await ctx.audit.write({ ...entry, outcome: decision.error ? 'error' : 'denied' });
  } catch (err) {
    ctx.log.error('audit of a refused auto-response step failed', { err: (err as Error).message, request_id: entry.request_id });
  }
  if (decision.error) {
    await reply.code(503).send({ error: 'POLICY_UNAVAILABLE', message: `policy check failed; refusing (fail closed): ${decision.reason}` });
  } else {
    await reply.code(403).send({ error: 'POLICY_DENIED', message: decision.reason, ...(decision.policy ? { detail: { policy: decision.policy } } : {}) });
  }
  return true;
}

function messageSummary(m: IncomingMessage, c: Classification) {
  return {
    from: m.from,
    channel: m.channel,
    subject: m.subject,
    category: c.category,
    urgency: c.urgency,
    confidence: c.confidence,
    risk: c.risk,
    signals: c.signals,
  };
}

async function loadRow(ctx: GatewayContext, tenant: string, id: string): Promise<Row> {
  const res = await query(ctx, 'auto_response_get', `SELECT ${COLUMNS} FROM app.auto_responses WHERE id = $1::uuid AND tenant_id = $2`, [id, tenant]);
  const raw = res.rows[0];
  if (raw === undefined) throw new ApiError(404, 'NOT_FOUND', `no auto-response ${id}`);
  return RowSchema.parse(raw);
}

export function registerAutoResponseRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.post(
    `${API_PREFIX}/auto-response/trigger`,
    handle(async (req, reply) => {
      // Message ingress, not an admin action: no documented per-tenant limit applies.
      const scope = await guard(ctx, req, reply, null);
      if (!scope) return reply;
      const t0 = performance.now();
      const { message: m } = parseOr400(TriggerSchema, req.body, 'trigger');
      const c = classify(m);
      const classifiedMs = performance.now() - t0;
      const id = crypto.randomUUID();

      const decision = await ctx.policy.evaluate('actions', {
        tenant_id: scope.tenant,
        user_id: scope.actor,
        action: 'auto_response',
        data_classification: m.classification,
        channel: m.channel,
        target_system: m.channel,
        additional: { step: 'trigger', category: c.category, risk: c.risk, confidence: c.confidence, from: m.from },
      });
      const detail = { step: 'trigger', auto_response_id: id, ...messageSummary(m, c) };
      const entry = baseEntry(scope, 'auto_response', m.classification, detail, decision);
      if (await refused(ctx, reply, entry, decision)) return reply;

      const respond = c.autoRespond && decision.requireApproval !== true;
      const reason = respond ? null : decision.requireApproval === true && c.autoRespond ? `policy requires approval: ${decision.reason}` : (c.holdReason ?? 'needs approval');
      const status = respond ? 'responded' : 'pending';
      const res = await auditedMutation(
        ctx,
        'auto_response_insert',
        {
          sql: `INSERT INTO app.auto_responses (id, tenant_id, user_id, request_id, status, message, category, confidence, risk, draft_response, reason, decided_at, decided_by)
                VALUES ($1::uuid, $2, $3, $4, $5::text, $6::jsonb, $7, $8::float8, $9, $10, $11, CASE WHEN $5::text = 'responded' THEN now() END, CASE WHEN $5::text = 'responded' THEN 'auto' END)
                RETURNING id`,
          params: [id, scope.tenant, scope.actor, scope.requestId, status, JSON.stringify(m), c.category, c.confidence, c.risk, c.draft, reason],
        },
        { ...entry, action_detail: { ...detail, status }, data_accessed: [{ kind: 'message', channel: m.channel, from: m.from }], outcome: respond ? 'success' : 'pending' },
      );
      const respondedMs = performance.now() - t0;
      const common = {
        id,
        category: c.category,
        urgency: c.urgency,
        confidence: c.confidence,
        risk: c.risk,
        classifiedMs: Math.round(classifiedMs * 1000) / 1000,
        auditId: res.audit?.id,
      };
      if (respond) {
        return reply.code(200).send({ status: 'responded', response: c.draft, ...common, respondedMs: Math.round(respondedMs * 1000) / 1000 });
      }
      return reply.code(202).send({ status: 'pending', reason, ...common, queuedMs: Math.round(respondedMs * 1000) / 1000 });
    }),
  );

  app.get(
    `${API_PREFIX}/auto-response/pending`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'admin');
      if (!scope) return reply;
      const q = parseOr400(PageSchema, req.query, 'query');
      const [rows, count] = await Promise.all([
        query(ctx, 'auto_response_pending', `SELECT ${COLUMNS} FROM app.auto_responses WHERE tenant_id = $1 AND status = 'pending' ORDER BY created_at, id LIMIT $2 OFFSET $3`, [
          scope.tenant,
          q.page_size,
          (q.page - 1) * q.page_size,
        ]),
        query<{ total: string }>(ctx, 'auto_response_pending_count', `SELECT count(*)::bigint AS total FROM app.auto_responses WHERE tenant_id = $1 AND status = 'pending'`, [scope.tenant]),
      ]);
      const total = Number(count.rows[0]?.total ?? 0);
      return reply.send({
        items: rows.rows.map((r) => itemJson(RowSchema.parse(r))),
        total,
        page: q.page,
        page_size: q.page_size,
        has_more: q.page * q.page_size < total,
      });
    }),
  );

  for (const verdict of ['approve', 'reject'] as const) {
    app.post(
      `${API_PREFIX}/auto-response/:id/${verdict}`,
      handle(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
        const scope = await guard(ctx, req, reply, 'admin');
        if (!scope) return reply;
        const id = requireUuid(req.params.id, 'auto-response');
        const body = parseOr400(DecisionBodySchema, req.body, `${verdict} body`);
        if (verdict === 'reject' && body?.response !== undefined) throw new ApiError(400, 'VALIDATION_FAILED', 'a rejection carries no response');
        const row = await loadRow(ctx, scope.tenant, id);
        if (row.status !== 'pending') throw new ApiError(409, 'ALREADY_DECIDED', `auto-response ${id} is ${row.status}`, { status: row.status });
        const msg = IncomingMessageSchema.safeParse(row.message);
        const classification = msg.success ? msg.data.classification : 'internal';
        const channel = msg.success ? msg.data.channel : '';
        const decision = await ctx.policy.evaluate('actions', {
          tenant_id: scope.tenant,
          user_id: scope.actor,
          action: `auto_response_${verdict}`,
          data_classification: classification,
          channel,
          target_system: channel,
          additional: { step: verdict, category: row.category, risk: row.risk, auto_response_id: id, owner: row.user_id },
        });
        const newStatus = verdict === 'approve' ? 'approved' : 'rejected';
        const detail = { step: verdict, auto_response_id: id, category: row.category, risk: row.risk, owner: row.user_id, note: body?.note ?? null, edited: body?.response !== undefined };
        const entry = baseEntry(scope, `auto_response_${verdict}`, classification, detail, decision);
        if (await refused(ctx, reply, entry, decision)) return reply;
        const res = await auditedMutation(
          ctx,
          `auto_response_${verdict}`,
          {
            // status = 'pending' in the WHERE: two reviewers racing cannot both decide.
            sql: `UPDATE app.auto_responses
                     SET status = $3, decided_at = now(), decided_by = $4, decision_note = $5, draft_response = COALESCE($6, draft_response)
                   WHERE id = $1::uuid AND tenant_id = $2 AND status = 'pending'
               RETURNING ${COLUMNS}`,
            params: [id, scope.tenant, newStatus, scope.actor, body?.note ?? null, body?.response ?? null],
          },
          { ...entry, outcome: 'success' },
        );
        const updated = res.rows[0];
        if (updated === undefined) throw new ApiError(409, 'ALREADY_DECIDED', `auto-response ${id} was decided concurrently`);
        const r = RowSchema.parse(updated);
        return reply.send({
          status: newStatus,
          id,
          ...(verdict === 'approve' ? { response: r.draft_response } : {}),
          decided_by: r.decided_by,
          decided_at: r.decided_at?.toISOString() ?? null,
          auditId: res.audit?.id,
        });
      }),
    );
  }
}
