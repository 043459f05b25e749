import type { FastifyInstance } from 'fastify';
import { authorize } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { queueDepth } from './hooks.ts';
import {
  CANARY_5XX_CEILING,
  diskGates,
  KEDA_LANE,
  PROBE_PATH,
  PROBE_SCHEMA_VERSION,
  type ProbeResponse,
} from '../../contract/probe.ts';
import { recentFor } from './recent.ts';
import { wsConnectionCount } from './ws.ts';

// Probes: /healthz (process lives), /readyz (dependencies and drain), /startupz, and the
// composite probe the load balancer and the harness read. Nothing slow runs on a probe's path:
// dependency checks run on a 1 s background timer and probes read the cached result.

const CHECK_INTERVAL_MS = 1_000;
const CHECK_TIMEOUT_MS = 800;
/** Results older than this (the checker itself is stuck) count as failing. */
const STALE_MS = 5_000;

export type DependencyName = 'redis' | 'database' | 'policy';

// A type alias, not an interface: it must fit the schema's open record of checks.
export type CheckResult = {
  ok: boolean;
  latency_ms: number;
  error?: string;
};

export interface Readiness {
  ready: boolean;
  draining: boolean;
  checkedAt: number;
  checks: Record<DependencyName, CheckResult>;
  failing: DependencyName[];
}

async function timed(what: () => Promise<unknown>): Promise<CheckResult> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      what(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latency_ms: round1(performance.now() - t0) };
  } catch (err) {
    return { ok: false, latency_ms: round1(performance.now() - t0), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

class DependencyChecker {
  private readonly ctx: GatewayContext;
  private last: { at: number; checks: Record<DependencyName, CheckResult> } | undefined;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private refresh(): Promise<void> {
    // Single flight: a hung dependency must not pile up checks behind it.
    this.running ??= this.runChecks().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runChecks(): Promise<void> {
    const policyHealth = new URL('/health', this.ctx.config.policyUrl);
    const [redis, database, policy] = await Promise.all([
      timed(async () => {
        const pong = await this.ctx.redis.ping();
        if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
      }),
      timed(async () => {
        await this.ctx.db.query('SELECT 1');
      }),
      timed(async () => {
        // Any answer below 500 means the sidecar is up and serving; evaluation failures are
        // the policy client's business (it fails closed per call).
        const res = await fetch(policyHealth, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
        await res.body?.cancel();
        if (res.status >= 500) throw new Error(`policy sidecar answered ${res.status}`);
      }),
    ]);
    this.last = { at: Date.now(), checks: { redis, database, policy } };
  }

  async current(): Promise<Readiness> {
    if (this.last === undefined) await this.refresh();
    const last = this.last;
    const now = Date.now();
    const stale = last === undefined || now - last.at > STALE_MS;
    const staleResult: CheckResult = { ok: false, latency_ms: 0, error: 'dependency checks are stale' };
    const checks: Record<DependencyName, CheckResult> =
      last === undefined || stale ? { redis: staleResult, database: staleResult, policy: staleResult } : last.checks;
    const failing = (Object.keys(checks) as DependencyName[]).filter((k) => !checks[k].ok);
    const draining = this.ctx.faults.draining;
    return { ready: failing.length === 0 && !draining, draining, checkedAt: last?.at ?? now, checks, failing };
  }
}

const checkers = new WeakMap<GatewayContext, DependencyChecker>();

function checkerFor(ctx: GatewayContext): DependencyChecker {
  let c = checkers.get(ctx);
  if (c === undefined) {
    c = new DependencyChecker(ctx);
    checkers.set(ctx, c);
  }
  return c;
}

/** The readiness summary (/readyz and the WebSocket `health` RPC): cached dependency checks plus drain state. */
export async function readiness(ctx: GatewayContext): Promise<Readiness> {
  return checkerFor(ctx).current();
}

export function readinessBody(ctx: GatewayContext, r: Readiness) {
  return {
    ok: r.ready,
    status: r.draining ? 'draining' : r.ready ? 'ready' : 'not_ready',
    gateway: ctx.config.id,
    checkedAt: new Date(r.checkedAt).toISOString(),
    checks: r.checks,
    failing: r.draining ? [...r.failing, 'draining'] : r.failing,
  };
}

/** The composite probe document (plan §5) and the HTTP status it goes out with. */
export async function compositeProbe(ctx: GatewayContext): Promise<{ httpStatus: number; body: ProbeResponse }> {
  const [ready, depth] = await Promise.all([readiness(ctx), queueDepth(ctx)]);
  const f = ctx.faults;
  const gates = diskGates(ctx.config.diskCapacityBytes);
  const canary = recentFor(ctx).summary();
  const reasons: string[] = [];
  if (f.degraded) reasons.push('degraded flag set');
  if (f.diskUsedRatio >= gates.red) reasons.push(`disk ${f.diskUsedRatio} at or above red gate ${gates.red}`);
  for (const name of ready.failing) reasons.push(`${name} check failing: ${ready.checks[name].error ?? 'failed'}`);
  if (canary.rate5xx > CANARY_5XX_CEILING) reasons.push(`canary 5xx rate ${canary.rate5xx.toFixed(4)} above ${CANARY_5XX_CEILING}`);
  if (depth === null) reasons.push('queue depth unavailable');
  const degraded = reasons.length > 0;
  const body: ProbeResponse = {
    status: degraded ? 'degraded' : 'healthy',
    keda: KEDA_LANE,
    canary: { '5xx_rate': round6(canary.rate5xx), p99_ms: canary.p99Ms },
    gateway: { disk_ok: f.diskUsedRatio < gates.yellow, queue_depth: depth ?? 0, skill_hash: f.skillHash },
    degraded,
    detail: {
      schema_version: PROBE_SCHEMA_VERSION,
      gateway_id: ctx.config.id,
      az: ctx.config.az,
      version: ctx.config.version,
      uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
      draining: f.draining,
      disk_used_ratio: f.diskUsedRatio,
      disk_gates: gates,
      ws_connections: wsConnectionCount(ctx),
      canary_window_s: canary.windowSeconds,
      canary_requests: canary.requests,
      canary_p50_ms: canary.p50Ms,
      checks: ready.checks,
      reasons,
    },
  };
  // 200 whether healthy or degraded so traffic still flows; 503 only while draining, which is
  // what takes the gateway out of the load balancer.
  return { httpStatus: f.draining ? 503 : 200, body };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function registerProbes(app: FastifyInstance, ctx: GatewayContext): void {
  const checker = checkerFor(ctx);
  checker.start();
  // What the probe says, as series: an autoscaler's guardrails read them from Prometheus, so a
  // replay of a run sees the same signals the live controller saw.
  const gates = diskGates(ctx.config.diskCapacityBytes);
  ctx.metrics.diskGate.set({ gate: 'yellow' }, gates.yellow);
  ctx.metrics.diskGate.set({ gate: 'red' }, gates.red);
  ctx.metrics.refreshers.push(async () => {
    ctx.metrics.probeDegraded.set((await compositeProbe(ctx)).body.degraded ? 1 : 0);
  });
  ctx.onClose.push(() => checker.stop());
  app.addHook('onClose', async () => checker.stop());

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/startupz', async () => ({
    ok: true,
    gateway: ctx.config.id,
    startedAt: new Date(ctx.startedAt).toISOString(),
    uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
  }));

  app.get('/readyz', async (_req, reply) => {
    const r = await readiness(ctx);
    return reply.code(r.ready ? 200 : 503).send(readinessBody(ctx, r));
  });

  app.get(PROBE_PATH, async (req, reply) => {
    if (!(await authorize(ctx, 'probe', req, reply))) return reply;
    const { httpStatus, body } = await compositeProbe(ctx);
    return reply.code(httpStatus).header('cache-control', 'no-store').send(body);
  });
}
