import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import type { GatewayContext } from '../context.ts';
import { API_PREFIX, guard, handle, withTimeout } from './common.ts';

// GET /status: 200 when every component answers, 503 (degraded) otherwise, with per-component
// status. Each check is bounded so the report itself stays fast when a component hangs.

const CHECK_TIMEOUT_MS = 2_000;
/** Above this many queued webhook jobs the queue counts as degraded (workers are not keeping up). */
export const QUEUE_DEGRADED_DEPTH = 10_000;

export type ComponentStatus = 'healthy' | 'degraded' | 'down';
export interface ComponentReport {
  status: ComponentStatus;
  latency_ms: number;
  error?: string;
  detail?: Record<string, unknown>;
}

async function timed(fn: () => Promise<Omit<ComponentReport, 'latency_ms'>>): Promise<ComponentReport> {
  const t0 = performance.now();
  try {
    const r = await withTimeout(fn(), CHECK_TIMEOUT_MS, 'component');
    return { ...r, latency_ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { status: 'down', latency_ms: Math.round(performance.now() - t0), error: (err as Error).message };
  }
}

async function httpCheck(url: string): Promise<Omit<ComponentReport, 'latency_ms'>> {
  const res = await request(url, { method: 'GET', headersTimeout: CHECK_TIMEOUT_MS, bodyTimeout: CHECK_TIMEOUT_MS, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  await res.body.dump();
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: 'healthy' };
  return { status: res.statusCode >= 500 ? 'down' : 'degraded', error: `HTTP ${res.statusCode}` };
}

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

export async function componentStatus(ctx: GatewayContext): Promise<Record<string, ComponentReport>> {
  const [database, redis, policy, upstream, queue] = await Promise.all([
    timed(async () => {
      await ctx.db.query('SELECT 1');
      return { status: 'healthy', detail: { pool_total: ctx.db.totalCount, pool_idle: ctx.db.idleCount, pool_waiting: ctx.db.waitingCount } };
    }),
    timed(async () => {
      const pong = await ctx.redis.ping();
      return pong === 'PONG' ? { status: 'healthy' } : { status: 'degraded', error: `unexpected PING answer ${pong}` };
    }),
    timed(() => httpCheck(join(ctx.config.policyUrl, '/health'))),
    timed(() => httpCheck(join(ctx.config.upstreamUrl, '/healthz'))),
    timed(async () => {
      // Queue gauges are read from Redis by their refreshers; a refresher failing means the
      // queue cannot be seen, which is itself a finding.
      await ctx.metrics.refresh();
      const g = await ctx.metrics.queueDepth.get();
      const depths: Record<string, number> = {};
      for (const v of g.values) depths[String(v.labels.queue ?? 'default')] = v.value;
      const max = Math.max(0, ...Object.values(depths));
      return max > QUEUE_DEGRADED_DEPTH
        ? { status: 'degraded', error: `queue depth ${max} above ${QUEUE_DEGRADED_DEPTH}`, detail: { depths } }
        : { status: 'healthy', detail: { depths } };
    }),
  ]);
  const gateway: ComponentReport = ctx.faults.draining
    ? { status: 'degraded', latency_ms: 0, error: 'draining' }
    : ctx.faults.degraded
      ? { status: 'degraded', latency_ms: 0, error: 'degraded by fault control' }
      : { status: 'healthy', latency_ms: 0 };
  return { gateway, database, redis, policy_sidecar: policy, upstream_connectors: upstream, queue };
}

export function registerStatusRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get(
    `${API_PREFIX}/status`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'status');
      if (!scope) return reply;
      const components = await componentStatus(ctx);
      const healthy = Object.values(components).every((c) => c.status === 'healthy');
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'healthy' : 'degraded',
        gateway: ctx.config.id,
        az: ctx.config.az,
        version: ctx.config.version,
        uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
        checked_at: new Date().toISOString(),
        components,
      });
    }),
  );
}
