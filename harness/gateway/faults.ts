import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authorize } from './auth.ts';
import type { FaultState, GatewayContext } from './context.ts';
import { setBuildInfo } from './metrics.ts';
import { recentFor } from './recent.ts';
import { sleep } from '../../src/util/sleep.ts';

// Fault controls for drills: latency and error injection on the work surfaces, a simulated
// disk fill, a degraded flag, the skill hash, draining, audit writes dropped, and idempotency
// keys held in process memory. Drills flip them through the admin route and roll them back with
// reset; a restart also restores the defaults (state is in memory).

export const FaultPatchSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  diskUsedRatio: z.number().min(0).max(1).optional(),
  degraded: z.boolean().optional(),
  skillHash: z.string().min(4).max(128).optional(),
  draining: z.boolean().optional(),
  /** Share of audit writes acknowledged but never stored: a broken writer the harness must catch. */
  auditDropRate: z.number().min(0).max(1).optional(),
  /**
   * Keep idempotency keys in this process's memory (as a real gateway does) instead of Redis: a
   * replay on another replica, or on this one after a restart, starts a second run. A restart
   * puts the default back (keys in Redis), but what this process held is gone with it.
   */
  keysInMemory: z.boolean().optional(),
});
export type FaultPatch = z.infer<typeof FaultPatchSchema>;

export const TokensSchema = z.strictObject({
  gateway: z.array(z.string().min(16).max(512)).min(1).max(8),
});

export function defaultFaults(ctx: Pick<GatewayContext, 'config'>): FaultState {
  return {
    latencyMs: 0,
    errorRate: 0,
    diskUsedRatio: 0.42,
    degraded: false,
    skillHash: ctx.config.skillHash,
    draining: false,
    auditDropRate: 0,
    keysInMemory: false,
  };
}

/** Apply a validated patch; keeps the gauges that mirror fault state in step. */
export function applyFaults(ctx: GatewayContext, patch: FaultPatch): FaultState {
  const before = ctx.faults.skillHash;
  const f = ctx.faults;
  if (patch.latencyMs !== undefined) f.latencyMs = patch.latencyMs;
  if (patch.errorRate !== undefined) f.errorRate = patch.errorRate;
  if (patch.diskUsedRatio !== undefined) f.diskUsedRatio = patch.diskUsedRatio;
  if (patch.degraded !== undefined) f.degraded = patch.degraded;
  if (patch.skillHash !== undefined) f.skillHash = patch.skillHash;
  if (patch.draining !== undefined) f.draining = patch.draining;
  if (patch.auditDropRate !== undefined) f.auditDropRate = patch.auditDropRate;
  if (patch.keysInMemory !== undefined) f.keysInMemory = patch.keysInMemory;
  ctx.metrics.diskUsedRatio.set(ctx.faults.diskUsedRatio);
  if (ctx.faults.skillHash !== before) {
    setBuildInfo(ctx.metrics, {
      gateway: ctx.config.id,
      az: ctx.config.az,
      version: ctx.config.version,
      skillHash: ctx.faults.skillHash,
    });
  }
  return ctx.faults;
}

/** Routes that carry work and therefore take injected faults; probes, /metrics and /admin never do. */
export function isFaultable(path: string): boolean {
  return path === '/tools/invoke' || path.startsWith('/tools/') || path.startsWith('/hooks/') || path === '/api/v1' || path.startsWith('/api/v1/');
}


/**
 * The injected fault for one unit of work (HTTP request or WebSocket RPC): waits latencyMs, then
 * returns a message when this call is chosen to fail (probability errorRate), else null.
 */
export async function injectFault(ctx: GatewayContext): Promise<string | null> {
  const { latencyMs, errorRate } = ctx.faults;
  if (latencyMs > 0) await sleep(latencyMs);
  if (errorRate > 0 && Math.random() < errorRate) {
    return `injected fault (errorRate ${ctx.faults.errorRate})`;
  }
  return null;
}

function routePath(req: FastifyRequest): string {
  return req.routeOptions.url ?? req.url.split('?')[0] ?? '';
}

export function registerFaultHooks(app: FastifyInstance, ctx: GatewayContext): void {
  ctx.metrics.diskUsedRatio.set(ctx.faults.diskUsedRatio);
  // The gauge follows the fault state even when something changes ctx.faults directly.
  ctx.metrics.refreshers.push(() => {
    ctx.metrics.diskUsedRatio.set(ctx.faults.diskUsedRatio);
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // Unmatched URLs are 404s, not work: they neither take faults nor count for the canary.
    if (req.routeOptions.url === undefined || !isFaultable(routePath(req))) return;
    const failure = await injectFault(ctx);
    if (failure !== null) {
      await reply.code(500).send({ error: 'INJECTED_FAULT', message: failure });
      return reply;
    }
  });

  // The canary block of the composite probe sees exactly the requests that can take faults.
  const recent = recentFor(ctx);
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url === undefined || !isFaultable(routePath(req))) return;
    recent.record(reply.statusCode, reply.elapsedTime);
  });
}

export function registerAdmin(app: FastifyInstance, ctx: GatewayContext): void {
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await authorize(ctx, 'admin', req, reply))) return reply;
  };

  app.get('/admin/faults', { preHandler: guard }, async () => ctx.faults);

  const patch = async (req: FastifyRequest, reply: FastifyReply) => {
    const parsed = FaultPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(parsed.error) });
    }
    const state = applyFaults(ctx, parsed.data);
    ctx.log.info('faults changed', { patch: parsed.data });
    return state;
  };
  app.put('/admin/faults', { preHandler: guard }, patch);
  app.patch('/admin/faults', { preHandler: guard }, patch);

  // Reset also clears the canary window by default, so a rolled-back fault does not keep the
  // probe degraded for another minute; `?keepCanary=true` keeps the measured window instead.
  app.post('/admin/faults/reset', { preHandler: guard }, async (req) => {
    const q = z.object({ keepCanary: z.enum(['true', 'false']).optional() }).safeParse(req.query);
    const state = applyFaults(ctx, defaultFaults(ctx));
    if (!(q.success && q.data.keepCanary === 'true')) recentFor(ctx).reset();
    ctx.log.info('faults reset');
    return state;
  });

  app.put('/admin/tokens', { preHandler: guard }, async (req, reply) => {
    const parsed = TokensSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      // The error text names paths and rules only, never the submitted values.
      const paths = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return reply.code(400).send({ error: 'BAD_REQUEST', message: paths.join('; ') });
    }
    ctx.tokens.gateway = [...new Set(parsed.data.gateway)];
    ctx.log.info('gateway tokens replaced', { count: ctx.tokens.gateway.length });
    return { ok: true, gatewayTokens: ctx.tokens.gateway.length };
  });
}
