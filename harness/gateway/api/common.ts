import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { acceptedTokens, authorize, bearerOf, tokenAccepted } from '../auth.ts';
import type { GatewayContext } from '../context.ts';
import { rateLimit, type ApiBucket } from '../ratelimit.ts';
import { REQUEST_ID_RE, TENANT_ID_RE, TENANT_ID_RULE, USER_ID_RE } from '../../../contract/ids.ts';

export const API_PREFIX = '/api/v1';

/** An error that leaves as `{error, message, detail?}` with its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;
  constructor(status: number, code: string, message: string, detail?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export async function sendError(reply: FastifyReply, status: number, code: string, message: string, detail?: unknown): Promise<FastifyReply> {
  return reply.code(status).send(detail === undefined ? { error: code, message } : { error: code, message, detail });
}

/** Parse with zod; a failure is a 400 naming every bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(400, 'VALIDATION_FAILED', `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
    issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
}


function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface ApiScope {
  tenant: string;
  requestId: string;
  /** Who acts (X-User-Id), for audit entries; `api` when the caller does not say. */
  actor: string;
}

/**
 * Bearer auth (gateway tokens), tenant, request id, then the tenant's rate-limit bucket. Returns
 * undefined when a reply (401/400/429) was already sent.
 */
export async function guard(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, bucket: ApiBucket | null): Promise<ApiScope | undefined> {
  let authed: boolean;
  try {
    authed = await authorize(ctx, 'api', req, reply);
  } catch {
    // Redis (auth-failure throttling) unavailable: still check the token itself, so /status
    // can report the outage instead of failing with it.
    if (reply.sent) return undefined;
    authed = tokenAccepted(bearerOf(req.headers.authorization), acceptedTokens(ctx, 'api'));
    if (!authed) await sendError(reply, 401, 'UNAUTHORIZED', 'missing or invalid bearer token');
  }
  if (!authed) return undefined;

  const tenant = header(req, 'x-tenant-id') ?? ctx.config.tenantId;
  if (!TENANT_ID_RE.test(tenant)) {
    await sendError(reply, 400, 'INVALID_TENANT', `X-Tenant-Id: ${TENANT_ID_RULE}`);
    return undefined;
  }
  const given = header(req, 'x-request-id');
  const requestId = given !== undefined && REQUEST_ID_RE.test(given) ? given : crypto.randomUUID();
  void reply.header('X-Request-Id', requestId);
  const user = header(req, 'x-user-id');
  const actor = user !== undefined && USER_ID_RE.test(user) ? user : 'api';

  if (bucket !== null) {
    let allowed: boolean;
    try {
      allowed = await rateLimit(ctx, tenant, bucket, reply);
    } catch (err) {
      if (bucket === 'status') {
        // The health report must not depend on the rate limiter being up.
        allowed = true;
      } else {
        ctx.log.warn('rate limiter unavailable', { err: (err as Error).message });
        await sendError(reply, 503, 'RATE_LIMITER_UNAVAILABLE', 'rate limiter unavailable; retry later');
        return undefined;
      }
    }
    if (!allowed) return undefined;
  }
  return { tenant, requestId, actor };
}

/** Wrap a handler: ApiErrors and known database errors leave in the API's error shape. */
export function handle<R extends FastifyRequest>(fn: (req: R, reply: FastifyReply) => Promise<unknown>) {
  return async (req: R, reply: FastifyReply): Promise<unknown> => {
    try {
      return await fn(req, reply);
    } catch (err) {
      if (err instanceof ApiError) return sendError(reply, err.status, err.code, err.message, err.detail);
      const code = (err as { code?: unknown }).code;
      if (code === '22P02') return sendError(reply, 400, 'BAD_REQUEST', 'malformed value in request');
      const message = err instanceof Error ? err.message : '';
      if ((typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === 'ECONNREFUSED')) || /timeout exceeded when trying to connect|Connection terminated/i.test(message)) {
        return sendError(reply, 503, 'STORE_UNAVAILABLE', 'database unavailable');
      }
      throw err;
    }
  };
}

export const UuidSchema = z.uuid();

export function requireUuid(id: string, what: string): string {
  if (!UuidSchema.safeParse(id).success) throw new ApiError(404, 'NOT_FOUND', `no ${what} ${id}`);
  return id;
}

/** Resolve within ms or reject; for health checks and best-effort side effects. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
