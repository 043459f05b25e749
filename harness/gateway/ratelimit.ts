import type { FastifyReply } from 'fastify';
import type { GatewayContext } from './context.ts';

/** Documented per-tenant limits of the Enterprise API reference (requests per minute). */
export const API_LIMITS = {
  policy_mutation: 60,
  audit_get: 120,
  audit_export: 10,
  admin: 60,
  status: 300,
} as const;
export type ApiBucket = keyof typeof API_LIMITS;

/**
 * Fixed one-minute window per tenant and bucket, counted in Redis so the limit holds across the
 * whole fleet, not per replica. Returns 0 when allowed, else the seconds to wait.
 */
export async function takeToken(ctx: GatewayContext, tenant: string, bucket: ApiBucket, nowMs = Date.now()): Promise<number> {
  const window = Math.floor(nowMs / 60_000);
  const key = `rl:${tenant}:${bucket}:${window}`;
  const n = await ctx.redis.incr(key);
  if (n === 1) await ctx.redis.expire(key, 61);
  if (n <= API_LIMITS[bucket]) return 0;
  return Math.max(1, Math.ceil(((window + 1) * 60_000 - nowMs) / 1000));
}

/** Apply a bucket to a request; on refusal sends 429 + Retry-After and returns false. */
export async function rateLimit(ctx: GatewayContext, tenant: string, bucket: ApiBucket, reply: FastifyReply): Promise<boolean> {
  const wait = await takeToken(ctx, tenant, bucket);
  if (wait === 0) return true;
  ctx.metrics.rateLimited.inc({ bucket });
  await reply
    .code(429)
    .header('Retry-After', String(wait))
    .send({ error: 'RATE_LIMITED', message: `${bucket} limit of ${API_LIMITS[bucket]}/min exceeded for tenant ${tenant}`, detail: { retryAfterSeconds: wait } });
  return false;
}
