import type { FastifyInstance } from 'fastify';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { GatewayContext } from '../context.ts';
import { API_PREFIX, guard, handle } from './common.ts';

// GET /metrics (Enterprise API): the gateway's counters as JSON, read from the same prom-client
// registry Prometheus scrapes, so both views always agree.

interface CounterSummary {
  total: number;
  by: Record<string, Record<string, number>>;
}

function summarise(metric: MetricObjectWithValues<MetricValue<string>> | undefined): CounterSummary {
  const out: CounterSummary = { total: 0, by: {} };
  if (metric === undefined) return out;
  for (const v of metric.values) {
    out.total += v.value;
    for (const [label, value] of Object.entries(v.labels)) {
      const group = (out.by[label] ??= {});
      const key = String(value);
      group[key] = (group[key] ?? 0) + v.value;
    }
  }
  return out;
}

export async function metricsSnapshot(ctx: GatewayContext) {
  await ctx.metrics.refresh();
  const all = (await ctx.metrics.registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>;
  const byName = new Map(all.map((m) => [m.name, m]));
  const get = (name: string) => summarise(byName.get(name));
  const counters: Record<string, CounterSummary> = {};
  const gauges: Record<string, Array<{ labels: Record<string, string | number>; value: number }>> = {};
  for (const m of all) {
    if (!m.name.startsWith('openclaw_')) continue;
    if (String(m.type) === 'counter') counters[m.name] = summarise(m);
    else if (String(m.type) === 'gauge') gauges[m.name] = m.values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value }));
  }
  return {
    gateway: ctx.config.id,
    uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
    tool_invocations: get('openclaw_tool_invocations_total'),
    policy_evaluations: get('openclaw_policy_evaluations_total'),
    audit_writes: { total: get('openclaw_audit_writes_total').total, failures: get('openclaw_audit_write_failures_total').total },
    webhooks: {
      received: get('openclaw_webhooks_received_total'),
      rejected: get('openclaw_webhooks_rejected_total'),
      replayed: get('openclaw_webhooks_replayed_total'),
      processed: get('openclaw_webhooks_processed_total'),
    },
    connectors: {
      requests: get('openclaw_connector_requests_total'),
      upstream_429: get('openclaw_connector_upstream_429_total'),
      retries: get('openclaw_connector_retries_total'),
    },
    auth_failures: get('openclaw_auth_failures_total'),
    rate_limited: get('openclaw_rate_limited_total'),
    counters,
    gauges,
    generated_at: new Date().toISOString(),
  };
}

export function registerMetricsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.get(
    `${API_PREFIX}/metrics`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'status');
      if (!scope) return reply;
      return reply.send(await metricsSnapshot(ctx));
    }),
  );
}
