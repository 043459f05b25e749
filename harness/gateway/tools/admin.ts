import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authorize } from '../auth.ts';
import type { GatewayContext } from '../context.ts';

const PatchSchema = z.strictObject({ retries: z.boolean() });

/**
 * Per-process connector switch. With retries off, an upstream 429 or 5xx fails the read at once:
 * the control run that shows the connector-burst criterion failing without the retry policy.
 * Each replica has its own switch (drills address gateways one by one, as with faults).
 */
export function registerConnectorAdmin(app: FastifyInstance, ctx: GatewayContext): void {
  const state = () => ({ gateway: ctx.config.id, retries: ctx.config.connectorRetries });

  app.get('/admin/connectors', async (req, reply) => {
    if (!(await authorize(ctx, 'admin', req, reply))) return;
    return reply.send(state());
  });

  app.patch('/admin/connectors', async (req, reply) => {
    if (!(await authorize(ctx, 'admin', req, reply))) return;
    const p = PatchSchema.safeParse(req.body ?? {});
    if (!p.success) {
      return reply.code(400).send({ error: 'BAD_REQUEST', message: p.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    }
    // The connector client reads this field on every read, so the change applies to the next read.
    ctx.config.connectorRetries = p.data.retries;
    ctx.log.info('connector retries switched', { retries: p.data.retries });
    return reply.send(state());
  });
}
