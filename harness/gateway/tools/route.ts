import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authorize } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { admissionFor } from '../hooks.ts';
import { registerConnectorAdmin } from './admin.ts';
import { invokeTool } from './dispatch.ts';
import { REQUEST_ID_RE, TENANT_ID_RE, TENANT_ID_RULE, USER_ID_RE, USER_ID_RULE } from '../../../contract/ids.ts';

const BodySchema = z
  .object({
    tool: z.string().min(1).max(128).optional(),
    name: z.string().min(1).max(128).optional(),
    args: z.record(z.string(), z.unknown()).default({}),
    sessionKey: z.string().min(1).max(256).optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
  })
  .refine((b) => b.tool !== undefined || b.name !== undefined, { message: 'tool (or name) is required', path: ['tool'] });


const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** `POST /tools/invoke` (OpenClaw's HTTP tool surface) and the connector admin switch. */
export function registerTools(app: FastifyInstance, ctx: GatewayContext): void {
  app.post('/tools/invoke', async (req, reply) => {
    const given = header(req.headers['x-request-id']);
    const requestId = given !== undefined && REQUEST_ID_RE.test(given) ? given : crypto.randomUUID();
    void reply.header('x-request-id', requestId);
    if (!(await authorize(ctx, 'tools', req, reply))) return;

    const bad = async (message: string) => reply.code(400).send({ ok: false, error: { type: 'invalid_request', message }, requestId });
    const body = BodySchema.safeParse(req.body ?? {});
    if (!body.success) return bad(body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const argUser = body.data.args.user_id;
    const userId = typeof argUser === 'string' ? argUser : (header(req.headers['x-user-id']) ?? 'u-anon');
    if (!USER_ID_RE.test(userId)) return bad(`user id (args.user_id or X-User-Id): ${USER_ID_RULE}`);
    const tenantId = header(req.headers['x-tenant-id']) ?? ctx.config.tenantId;
    if (!TENANT_ID_RE.test(tenantId)) return bad(`X-Tenant-Id: ${TENANT_ID_RULE}`);

    // Admission control (the gateway's `maxInFlight`, PUT /admin/hooks): a replica with no room
    // turns the call away at the door, before policy, audit or any connector read, so the client
    // can retry elsewhere or later. Default far above what the scenarios reach.
    const adm = admissionFor(ctx);
    if (adm.inFlight >= adm.maxInFlight) {
      ctx.metrics.toolsRejected.inc({ reason: 'overloaded' });
      return reply
        .code(429)
        .header('Retry-After', String(adm.retryAfterS))
        .send({ ok: false, error: { type: 'overloaded', message: 'too many requests in flight on this gateway; retry later' }, requestId });
    }
    adm.inFlight += 1;
    let r: Awaited<ReturnType<typeof invokeTool>>;
    try {
      r = await invokeTool(ctx, {
        tool: body.data.tool ?? body.data.name ?? '',
        args: body.data.args,
        sessionKey: body.data.sessionKey,
        idempotencyKey: body.data.idempotencyKey,
        requestId,
        userId,
        tenantId,
        channel: 'http',
      });
    } finally {
      adm.inFlight -= 1;
    }
    if (r.ok) return reply.code(200).send({ ok: true, result: r.result, requestId: r.requestId, auditId: r.auditId });
    return reply
      .code(r.status)
      .send({ ok: false, error: r.error, requestId: r.requestId, ...(r.auditId !== undefined ? { auditId: r.auditId } : {}) });
  });

  registerConnectorAdmin(app, ctx);
}
