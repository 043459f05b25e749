import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from './context.ts';

export type AuthSurface = 'tools' | 'hooks' | 'ws' | 'api' | 'admin' | 'probe';

/** Bearer value from an Authorization header (or undefined). */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

/** Constant-time comparison against every accepted token (primary and overlap during rotation). */
export function tokenAccepted(given: string | undefined, accepted: readonly string[]): boolean {
  if (given === undefined) return false;
  const g = crypto.createHash('sha256').update(given).digest();
  let ok = false;
  for (const t of accepted) {
    const a = crypto.createHash('sha256').update(t).digest();
    if (crypto.timingSafeEqual(g, a)) ok = true;
  }
  return ok;
}

export function acceptedTokens(ctx: GatewayContext, surface: AuthSurface): readonly string[] {
  const t = ctx.tokens;
  switch (surface) {
    case 'hooks':
      return [t.hook];
    case 'admin':
      return [t.admin];
    case 'probe':
      return [t.probe];
    default:
      return t.gateway;
  }
}

export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_FAILURE_WINDOW_S = 60;

/**
 * Per-client auth throttling shared by the fleet (kept in Redis): after 20 failures in 60 s from
 * one client address the client gets 429 with Retry-After until the window ends.
 */
export async function throttledFor(ctx: GatewayContext, surface: AuthSurface, client: string): Promise<number> {
  const key = `authfail:${surface}:${client}`;
  try {
    const [count, ttl] = await Promise.all([ctx.redis.get(key), ctx.redis.ttl(key)]);
    if (count !== null && Number(count) >= AUTH_FAILURE_LIMIT) return Math.max(1, ttl);
  } catch {
    // Redis down: the throttle cannot be read; the token check still decides (and the probe
    // can still say "degraded" instead of failing with a 500).
  }
  return 0;
}

export async function recordAuthFailure(ctx: GatewayContext, surface: AuthSurface, client: string): Promise<void> {
  ctx.metrics.authFailures.inc({ surface });
  const key = `authfail:${surface}:${client}`;
  try {
    const n = await ctx.redis.incr(key);
    if (n === 1) await ctx.redis.expire(key, AUTH_FAILURE_WINDOW_S);
  } catch {
    // see throttledFor
  }
}

/**
 * Fastify preHandler: 429 for a throttled client, 401 for a missing/wrong token. Replies with the
 * error shape `{error, message}` the Enterprise API uses; returns true when the request may go on.
 */
export async function authorize(
  ctx: GatewayContext,
  surface: AuthSurface,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const client = req.ip;
  const wait = await throttledFor(ctx, surface, client);
  if (wait > 0) {
    ctx.metrics.rateLimited.inc({ bucket: `auth_${surface}` });
    await reply
      .code(429)
      .header('Retry-After', String(wait))
      .send({ error: 'RATE_LIMITED', message: `too many authentication failures; retry in ${wait} s` });
    return false;
  }
  if (!tokenAccepted(bearerOf(req.headers.authorization), acceptedTokens(ctx, surface))) {
    await recordAuthFailure(ctx, surface, client);
    await reply.code(401).send({ error: 'UNAUTHORIZED', message: 'missing or invalid bearer token' });
    return false;
  }
  return true;
}
