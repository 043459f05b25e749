import type { ResultsInput } from '../../../src/report/results.ts';

const series = Array.from({ length: 30 }, (_, i) => ({ t: 1_735_689_600 + i, count: 100 + i, errors: i === 10 ? 2 : 0, p50: 40 + i, p95: 90 + i, p99: i === 5 ? null : 140 + i, max: 300 }));

export function sampleResults(): ResultsInput {
  return {
    schema: 'clawstorm.results/v1',
    runId: 'run-2025-01-01T00-00-00Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:05:00.000Z',
    profile: 'smoke',
    target: 'local',
    verdict: 'fail',
    exitCode: 1,
    aborted: false,
    reasons: ['1 threshold(s) failed'],
    scenarios: [
      {
        name: 'policy-evaluation',
        title: 'Policy Evaluation',
        status: 'Fail',
        startedAt: '2025-01-01T00:00:00.000Z',
        endedAt: '2025-01-01T00:01:00.000Z',
        p50: 42.123,
        p95: 120.5,
        p99: 480,
        errorRate: 0.0004,
        requests: 5000,
        errors: 2,
        dropped: 0,
        thresholds: [
          { name: 'policy p95', source: 'client', expr: 'p(95)<100ms', observed: 120.5, unit: 'ms', verdict: 'fail', detail: 'p(95) = 120.5 ms violates < 100 ms' },
          { name: 'policy p99', source: 'client', expr: 'p(99)<500ms', observed: 480, unit: 'ms', verdict: 'pass', detail: 'ok <&> "quoted"' },
        ],
        percentiles: [
          { p: 50, ms: 42.1 },
          { p: 90, ms: 100 },
          { p: 99, ms: 480 },
          { p: 99.9, ms: 900 },
        ],
        series,
      },
      {
        name: 'audit-write',
        title: 'Audit Write',
        status: 'No data',
        p50: 3.2,
        p95: 12,
        p99: 30,
        errorRate: 0,
        requests: 5000,
        errors: 0,
        dropped: 0,
        thresholds: [{ name: 'missing audit ids', source: 'promql', expr: 'x == 0', query: 'sum(x)', observed: null, verdict: 'no_data', detail: 'query returned no series' }],
        extra: { missingIds: 0 },
      },
      { name: 'mixed-workload', title: 'Mixed Workload', status: 'Not run', p50: null, p95: null, p99: null, errorRate: null, requests: 0, errors: 0, dropped: 0, thresholds: [{ name: 'mixed p95', source: 'client', expr: 'p(95)<5s', observed: null, verdict: 'no_data', detail: 'not run' }] },
    ],
    thresholds: [{ name: 'gateway 5xx', source: 'promql', expr: 'rate < 0.005', query: 'sum(rate(x[600s]))', observed: Infinity, verdict: 'fail', detail: 'observed +Inf' }],
    metrics: [
      { group: 'application', metric: 'Request throughput (req/s)', query: 'sum(rate(a[1m]))', unit: 'req/s', target: { op: '>', value: 1000 }, alert: { op: '<', value: 500 }, gate: true, observed: 812.345, alerting: false, verdict: 'fail', detail: 'below target' },
      { group: 'application', metric: 'P95 response time', query: 'q', unit: 's', target: { op: '<', value: 5 }, alert: { op: '>', value: 10 }, gate: true, observed: 0.1234, alerting: false, verdict: 'pass', detail: 'ok' },
      { group: 'application', metric: 'Error rate', query: 'q', unit: 'ratio', target: { op: '<', value: 0.001 }, alert: { op: '>', value: 0.01 }, gate: true, observed: 0.0002, alerting: false, verdict: 'pass', detail: 'ok' },
      { group: 'infrastructure', metric: 'Gateway CPU utilization', query: 'q', unit: 'ratio', target: { op: '<', value: 0.7 }, alert: { op: '>', value: 0.85, for: '5m' }, gate: true, observed: null, alerting: null, verdict: 'no_data', detail: 'no series' },
    ],
    generator: { saturated: false, reasons: [] },
    drills: [
      {
        name: 'paired-gateway',
        title: 'Paired gateway drill',
        status: 'Pass',
        events: [
          { t: 0, label: 'load steady' },
          { t: 12.5, label: 'SIGKILL gw-a1', kind: 'fault' },
          { t: 15.1, label: 'LB marks gw-a1 down' },
          { t: 40, label: 'gw-a1 restarted', kind: 'recover' },
        ],
        figures: { lostWebhooks: 0, detectSeconds: 2.6 },
        thresholds: [{ name: 'webhooks lost', source: 'promql', expr: 'lost == 0', observed: 0, verdict: 'pass', detail: 'ok' }],
      },
    ],
  };
}

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z, the drill's start

/**
 * A drill run and a storm run, no scenario: a gateway crash at 15 s, detected at 16.7 s,
 * restarted at 38 s; the client's errors and latency spike in between. Labels long enough to
 * reach the right edge of a timeline.
 */
export function drillResults(): ResultsInput {
  const series = Array.from({ length: 60 }, (_, i) => {
    const down = i >= 15 && i < 38;
    return { t: T0 + i, count: 6, errors: down && i < 18 ? 2 : 0, p50: down ? 90 : 40, p95: down ? 600 : 70, p99: i === 16 ? 2400 : down ? 900 : 95, max: 3000 };
  });
  const storm = (from: number) => Array.from({ length: 12 }, (_, i) => ({ t: T0 + from + i, requests: 80 - i * 5, accepted: 40 - i * 2, status429: i < 6 ? 30 : 2, lost: i === 4 ? 1 : 0 }));
  return {
    schema: 'clawstorm.results/v1',
    runId: 'drill-2026-01-01',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:02:00.000Z',
    profile: 'smoke',
    target: 'local',
    verdict: 'pass',
    exitCode: 0,
    aborted: false,
    scenarios: [],
    generator: { saturated: false, reasons: [] },
    drills: [
      {
        name: 'gateway-pair',
        title: 'Gateway pair failover',
        status: 'Pass',
        startedAt: '2026-01-01T00:00:00.000Z',
        events: [
          { t: 0, label: 'load: 5/s tools + 1/s webhooks through http://127.0.0.1:33195', kind: 'phase' },
          { t: 15, label: 'gw-1 crashed (SIGKILL)', kind: 'fault' },
          { t: 15.9, label: 'Prometheus: prometheus down after 856 ms', kind: 'measure' },
          { t: 16.7, label: 'gw-1 DOWN in the load balancer after 1601 ms', kind: 'measure' },
          { t: 38, label: 'restart the victim: gw-1 started again (14945 ms to healthy)', kind: 'recover' },
          { t: 39.4, label: 'gw-1 UP in the load balancer after 16355 ms', kind: 'measure' },
          { t: 59.5, label: 'webhooks: 45 acknowledged, 0 lost, 0 duplicated, and a label long enough to run past the right edge', kind: 'measure' },
        ],
        figures: { haproxy_down_ms: 1601, recovery_ms: 16355 },
        thresholds: [
          { name: 'load balancer took the victim out', source: 'client', expr: 'haproxy_down_ms < 30000', observed: 1601, verdict: 'pass', detail: 'haproxy_down_ms = 1601 meets < 30000' },
          {
            name: 'survivor scraped by Prometheus (during)',
            source: 'promql',
            expr: 'min(min_over_time(clawstorm:gateway_up{gateway="gw-2",job=~"gateway|blackbox-healthz",instance=~".*"}[30s])) by (gateway, az, instance) == 1',
            observed: 0.99999871234,
            unit: 's',
            verdict: 'pass',
            detail: 'worst 0.00019886363636363642 meets < 0.1',
          },
        ],
        series,
      },
      {
        name: 'webhook-storm',
        title: 'Webhook retry storm',
        status: 'Fail',
        startedAt: '2026-01-01T00:00:00.000Z',
        events: [
          { t: 0.2, label: 'capped: storm starts', kind: 'phase' },
          { t: 3, label: 'capped: restart gw-1', kind: 'fault' },
          { t: 5.5, label: 'capped: gw-1 started again', kind: 'recover' },
          { t: 20.1, label: 'unbounded: storm starts', kind: 'phase' },
          { t: 23, label: 'unbounded: restart gw-1', kind: 'fault' },
          { t: 26, label: 'unbounded: gw-1 started again', kind: 'recover' },
          { t: 31, label: 'unbounded: 900 accepted, 1 lost, 0 duplicated; drained in 2100 ms', kind: 'measure' },
        ],
        figures: { 'capped.lost': 1, 'unbounded.lost': 0 },
        thresholds: [{ name: 'capped: no acknowledged delivery lost', source: 'client', expr: 'capped.lost == 0', observed: 1, verdict: 'fail', detail: 'capped.lost = 1 violates == 0' }],
        disciplines: { capped: storm(0), unbounded: storm(20) },
      },
    ],
  };
}
