// The Metrics-to-monitor table (plan §3) as named PromQL rows, written for the reference fleet
// and the standard exporters. A target profile that lists its own `metrics` replaces them all.
import type { CompareOp } from './common.ts';
import type { MetricRow, MetricUnit } from './profile.ts';

const HTTP = 'openclaw_http_request_duration_seconds';
const q = (quantile: number) => `histogram_quantile(${quantile}, sum by (le) (rate(${HTTP}_bucket{job="gateway"}[$__rate_interval])))`;
const memShare = (job: string) =>
  `max(max_over_time(process_resident_memory_bytes{job="${job}"}[$__interval])) / scalar(sum(node_memory_MemTotal_bytes{job="node"}))`;

/**
 * The default rows. Rates are averaged over the window; gauges take the window's peak, except
 * pool utilisation, which is a utilisation (the share of the pool in use over the window, per
 * gateway; its alert judges peaks that are sustained). CPU is
 * a fraction of one core (the reference processes are single-threaded Node); memory a fraction
 * of the host's memory (node_exporter). Error-ratio numerators get `or vector(0)` — a 5xx
 * series that never appeared is zero errors — but denominators never do: no requests at all
 * is no data.
 */
export const DEFAULT_METRICS: readonly MetricRow[] = Object.freeze([
  row('application', 'Request throughput (req/s)', `sum(rate(${HTTP}_count{job="gateway"}[$__rate_interval]))`, 'req/s', ['>', 1000], ['<', 500]),
  row('application', 'P50 response time', q(0.5), 's', ['<', 0.5], ['>', 1]),
  row('application', 'P95 response time', q(0.95), 's', ['<', 5], ['>', 10]),
  row('application', 'P99 response time', q(0.99), 's', ['<', 15], ['>', 30]),
  row(
    'application',
    'Error rate',
    `(sum(rate(${HTTP}_count{job="gateway",status_class="5xx"}[$__rate_interval])) or vector(0)) / sum(rate(${HTTP}_count{job="gateway"}[$__rate_interval]))`,
    'ratio',
    ['<', 0.001],
    ['>', 0.01],
  ),
  row('infrastructure', 'Gateway CPU utilization', 'max(rate(process_cpu_seconds_total{job="gateway"}[$__rate_interval]))', 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row('infrastructure', 'Gateway memory utilization', memShare('gateway'), 'ratio', ['<', 0.8], ['>', 0.9, '5m']),
  row('infrastructure', 'OPA sidecar CPU', 'max(rate(process_cpu_seconds_total{job="policy"}[$__rate_interval]))', 'ratio', ['<', 0.5], ['>', 0.8, '5m']),
  row('infrastructure', 'OPA sidecar memory', memShare('policy'), 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row('infrastructure', 'Host CPU utilization', '1 - avg(rate(node_cpu_seconds_total{job="node",mode="idle"}[$__rate_interval]))', 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row(
    'infrastructure',
    'Load balancer 5xx rate',
    'sum(rate(haproxy_backend_http_responses_total{job="haproxy",code="5xx"}[$__rate_interval])) / sum(rate(haproxy_backend_http_responses_total{job="haproxy"}[$__rate_interval]))',
    'ratio',
    ['<', 0.001],
    ['>', 0.01],
  ),
  row(
    'database',
    'DB connection pool utilization',
    'max(avg_over_time(((sum by (instance) (openclaw_db_pool_connections{job="gateway",state="total"}) - sum by (instance) (openclaw_db_pool_connections{job="gateway",state="idle"})) / sum by (instance) (openclaw_db_pool_max{job="gateway"}))[$__interval:]))',
    'ratio',
    ['<', 0.7],
    ['>', 0.85],
  ),
  row('database', 'DB query P95 latency', 'histogram_quantile(0.95, sum by (le) (rate(openclaw_db_query_duration_seconds_bucket{job="gateway"}[$__rate_interval])))', 's', ['<', 0.1], ['>', 0.5]),
  row(
    'database',
    'DB active connections',
    // Share of the server's connection limit: target "< pool size" (< 1), alert "> 80% of pool size".
    'max_over_time((sum(pg_stat_activity_count{job="postgres",state="active"}) / scalar(max(pg_settings_max_connections{job="postgres"})))[$__interval:])',
    'ratio',
    ['<', 1],
    ['>', 0.8],
  ),
  row('database', 'Redis rejected connections', 'sum(increase(redis_rejected_connections_total{job="redis"}[$__rate_interval]))', 'count', ['<=', 0], ['>', 0, '0s']),
  row(
    'business',
    'Audit entry completeness',
    // writes_total counts acknowledged writes only; failures are counted apart.
    'sum(increase(openclaw_audit_writes_total{job="gateway"}[$__rate_interval])) / (sum(increase(openclaw_audit_writes_total{job="gateway"}[$__rate_interval])) + (sum(increase(openclaw_audit_write_failures_total{job="gateway"}[$__rate_interval])) or vector(0)))',
    'ratio',
    ['>=', 1],
    ['<', 1, '0s'],
  ),
  row(
    'business',
    'Policy evaluation success rate',
    '1 - ((sum(increase(openclaw_policy_evaluations_total{job="gateway",result="error"}[$__rate_interval])) or vector(0)) / sum(increase(openclaw_policy_evaluations_total{job="gateway"}[$__rate_interval])))',
    'ratio',
    ['>=', 1],
    ['<', 1, '0s'],
  ),
  row(
    'business',
    'Connector sync success rate',
    '(sum(increase(openclaw_connector_requests_total{job="gateway",outcome="ok"}[$__rate_interval])) or vector(0)) / sum(increase(openclaw_connector_requests_total{job="gateway"}[$__rate_interval]))',
    'ratio',
    ['>', 0.99],
    ['<', 0.95, '1h'],
  ),
]);

function row(group: string, metric: string, query: string, unit: MetricUnit, target: [CompareOp, number], alert: [CompareOp, number, string?]): MetricRow {
  const a: MetricRow['alert'] = { op: alert[0], value: alert[1] };
  if (alert[2] !== undefined) a.for = alert[2];
  return { group, metric, query, unit, target: { op: target[0], value: target[1] }, alert: a, gate: true };
}
