import client from 'prom-client';
import { processRegistry } from '../common/metrics.ts';

/**
 * Bucket bounds 5% apart from 1 ms to 120 s. histogram_quantile interpolates inside a bucket, so
 * its error is bounded by the bucket's width: 5% buckets keep a Prometheus P50/P99 within 5% of
 * what the client measured (bench and test/integration/accuracy), where the usual 2.5× layout
 * would read a 200 ms point mass as 175 ms. ~240 buckets per series is cheap at this fleet size.
 */
export const LATENCY_BUCKETS: readonly number[] = (() => {
  const out: number[] = [];
  for (let b = 0.001; b < 120; b *= 1.05) out.push(Number(b.toPrecision(4)));
  out.push(120);
  return out;
})();

/** The gateway's metric contract (names are fixed in docs/ARCHITECTURE.md; profiles query them). */
export function createGatewayMetrics(labels: { gateway: string; az: string; version: string; skillHash: string }) {
  const registry = processRegistry();
  const r = [registry];

  const refreshers: Array<() => Promise<void> | void> = [];
  const m = {
    registry,
    /** Gauges read at scrape time (queue depth, pool state) register a refresher here. */
    refreshers,
    async refresh(): Promise<void> {
      await Promise.all(refreshers.map(async (f) => f()));
    },
    httpDuration: new client.Histogram({
      name: 'openclaw_http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status class.',
      labelNames: ['route', 'method', 'status_class'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: r,
    }),
    httpResponses: new client.Counter({
      name: 'openclaw_http_responses_total',
      help: 'HTTP responses by status class (every class exists from start-up, so increase() sees the first 5xx).',
      labelNames: ['status_class'] as const,
      registers: r,
    }),
    toolInvocations: new client.Counter({
      name: 'openclaw_tool_invocations_total',
      help: 'Tool invocations by tool and outcome (ok, denied, error).',
      labelNames: ['tool', 'outcome'] as const,
      registers: r,
    }),
    toolDuration: new client.Histogram({
      name: 'openclaw_tool_invocation_duration_seconds',
      help: 'Tool invocation duration, policy check and audit write included.',
      labelNames: ['tool'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: r,
    }),
    policyEvaluations: new client.Counter({
      name: 'openclaw_policy_evaluations_total',
      help: 'Policy evaluations asked of the sidecar, by domain and result (allow, deny, error).',
      labelNames: ['domain', 'result'] as const,
      registers: r,
    }),
    policyDuration: new client.Histogram({
      name: 'openclaw_policy_evaluation_duration_seconds',
      help: 'Round trip of one policy evaluation to the sidecar.',
      labelNames: ['domain'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: r,
    }),
    auditWrites: new client.Counter({
      name: 'openclaw_audit_writes_total',
      help: 'Audit entries written and acknowledged by the store.',
      registers: r,
    }),
    auditWriteFailures: new client.Counter({
      name: 'openclaw_audit_write_failures_total',
      help: 'Audit writes the store did not acknowledge.',
      registers: r,
    }),
    auditWriteDuration: new client.Histogram({
      name: 'openclaw_audit_write_duration_seconds',
      help: 'Duration of one audit insert.',
      buckets: [...LATENCY_BUCKETS],
      registers: r,
    }),
    webhooksReceived: new client.Counter({
      name: 'openclaw_webhooks_received_total',
      help: 'Webhook deliveries received, by hook.',
      labelNames: ['hook'] as const,
      registers: r,
    }),
    webhooksRejected: new client.Counter({
      name: 'openclaw_webhooks_rejected_total',
      help: 'Webhook deliveries rejected, by hook and reason (auth, throttled, invalid, draining).',
      labelNames: ['hook', 'reason'] as const,
      registers: r,
    }),
    toolsRejected: new client.Counter({
      name: 'openclaw_tools_rejected_total',
      help: 'HTTP tool calls turned away by admission control (429 + Retry-After), by reason (overloaded: maxInFlight reached).',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    webhooksReplayed: new client.Counter({
      name: 'openclaw_webhooks_replayed_total',
      help: 'Webhook deliveries answered from the idempotency store.',
      labelNames: ['hook'] as const,
      registers: r,
    }),
    webhooksProcessed: new client.Counter({
      name: 'openclaw_webhooks_processed_total',
      help: 'Webhook jobs drained from the queue by workers.',
      labelNames: ['hook'] as const,
      registers: r,
    }),
    queueDepth: new client.Gauge({
      name: 'openclaw_queue_depth',
      help: 'Pending jobs in a queue (read from Redis at scrape time).',
      labelNames: ['queue'] as const,
      registers: r,
    }),
    wsActive: new client.Gauge({
      name: 'openclaw_ws_connections_active',
      help: 'Open, authenticated-or-handshaking WebSocket connections.',
      registers: r,
    }),
    connectorRequests: new client.Counter({
      name: 'openclaw_connector_requests_total',
      help: 'Connector reads by connector and final outcome (ok, error).',
      labelNames: ['connector', 'outcome'] as const,
      registers: r,
    }),
    connector429: new client.Counter({
      name: 'openclaw_connector_upstream_429_total',
      help: 'Rate-limit answers (429) from upstream providers.',
      labelNames: ['connector'] as const,
      registers: r,
    }),
    connectorRetries: new client.Counter({
      name: 'openclaw_connector_retries_total',
      help: 'Connector read retries after a 429 or a transient failure.',
      labelNames: ['connector'] as const,
      registers: r,
    }),
    connectorQueued: new client.Gauge({
      name: 'openclaw_connector_queued',
      help: 'Connector reads waiting for a retry slot.',
      labelNames: ['connector'] as const,
      registers: r,
    }),
    dbPool: new client.Gauge({
      name: 'openclaw_db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting).',
      labelNames: ['state'] as const,
      registers: r,
    }),
    dbPoolMax: new client.Gauge({
      name: 'openclaw_db_pool_max',
      help: 'Configured maximum size of the database pool.',
      registers: r,
    }),
    dbQueryDuration: new client.Histogram({
      name: 'openclaw_db_query_duration_seconds',
      help: 'Database query duration by operation.',
      labelNames: ['op'] as const,
      buckets: [...LATENCY_BUCKETS],
      registers: r,
    }),
    diskUsedRatio: new client.Gauge({
      name: 'openclaw_disk_used_ratio',
      help: 'Used fraction of the gateway disk (fault-controllable in the test bed).',
      registers: r,
    }),
    probeDegraded: new client.Gauge({
      name: 'openclaw_probe_degraded',
      help: "The composite probe's degraded flag at scrape time (1 degraded, 0 healthy): autoscaler guardrails read it.",
      registers: r,
    }),
    diskGate: new client.Gauge({
      name: 'openclaw_disk_gate_ratio',
      help: "The disk watermark gates of this gateway's capacity tier, as used fractions (gate yellow, red).",
      labelNames: ['gate'] as const,
      registers: r,
    }),
    authFailures: new client.Counter({
      name: 'openclaw_auth_failures_total',
      help: 'Requests refused for a missing or wrong token, by surface.',
      labelNames: ['surface'] as const,
      registers: r,
    }),
    rateLimited: new client.Counter({
      name: 'openclaw_rate_limited_total',
      help: 'Requests refused with 429 by a rate-limit bucket.',
      labelNames: ['bucket'] as const,
      registers: r,
    }),
    buildInfo: new client.Gauge({
      name: 'openclaw_build_info',
      help: 'Build information; value is always 1.',
      labelNames: ['version', 'skill_hash', 'gateway', 'az'] as const,
      registers: r,
    }),
  };
  m.buildInfo.set({ version: labels.version, skill_hash: labels.skillHash, gateway: labels.gateway, az: labels.az }, 1);
  return m;
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/**
 * Create the labelled series a check counts on at zero, at start-up. A series born at its
 * first event makes increase() blind to that event (there is no earlier sample to difference
 * against), so a burst of 49 errors inside one scrape interval would read as 0.
 */
export function zeroInitialise(m: GatewayMetrics, known: { tools: readonly string[]; connectors: readonly string[]; policyDomains: readonly string[] }): void {
  for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) m.httpResponses.inc({ status_class: c }, 0);
  for (const tool of known.tools) for (const outcome of ['ok', 'denied', 'error']) m.toolInvocations.inc({ tool, outcome }, 0);
  for (const connector of known.connectors) {
    for (const outcome of ['ok', 'error']) m.connectorRequests.inc({ connector, outcome }, 0);
    m.connector429.inc({ connector }, 0);
    m.connectorRetries.inc({ connector }, 0);
    m.connectorQueued.set({ connector }, 0);
  }
  for (const domain of known.policyDomains) for (const result of ['allow', 'deny', 'error']) m.policyEvaluations.inc({ domain, result }, 0);
  for (const hook of ['agent', 'wake']) {
    m.webhooksReceived.inc({ hook }, 0);
    m.webhooksReplayed.inc({ hook }, 0);
    m.webhooksProcessed.inc({ hook }, 0);
    for (const reason of ['auth', 'throttled', 'invalid', 'draining']) m.webhooksRejected.inc({ hook, reason }, 0);
  }
  m.toolsRejected.inc({ reason: 'overloaded' }, 0);
  for (const surface of ['tools', 'hooks', 'ws', 'api', 'admin', 'probe']) m.authFailures.inc({ surface }, 0);
}

/** Re-label build info when the skill hash changes (fault control), so only one series is 1. */
export function setBuildInfo(m: GatewayMetrics, labels: { gateway: string; az: string; version: string; skillHash: string }): void {
  m.buildInfo.reset();
  m.buildInfo.set({ version: labels.version, skill_hash: labels.skillHash, gateway: labels.gateway, az: labels.az }, 1);
}

export function statusClass(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}
