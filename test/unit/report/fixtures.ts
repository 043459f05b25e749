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
