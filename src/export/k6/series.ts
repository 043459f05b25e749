// The series a distributed k6 run leaves in Prometheus, named for the judge. k6's remote-write
// output prefixes every metric with `k6_`; with the native-histograms feature a time Trend becomes
// one native histogram `k6_<name>_seconds`, a Counter `k6_<name>_total`, a Rate `k6_<name>_rate`
// (each runner's own ratio: not addable over runners — add up counts instead). Every tag is a
// label; the k6-operator adds `testrun_name` (the TestRun) and `instance_id` (the runner, from 1).
import { SAMPLE_TAGS, WS_METRICS } from './runtime.ts';

export const K6_SERIES = {
  /** Native histogram of HTTP latency, seconds; labels scenario, step, kind, call, name, status, expected_response… */
  httpDuration: 'k6_http_req_duration_seconds',
  /** Counter of HTTP requests per tag set; expected_response="false" are the failed ones. */
  httpRequests: 'k6_http_reqs_total',
  /** Native histogram of WebSocket step latencies (connect, each RPC, close), seconds. */
  wsDuration: `k6_${WS_METRICS.duration}_seconds`,
  /** Counter of WebSocket samples, label ok="true"|"false". */
  wsSamples: `k6_${WS_METRICS.samples}_total`,
  /** Counter of arrivals an open-model scenario could not start. */
  dropped: 'k6_dropped_iterations_total',
  iterations: 'k6_iterations_total',
} as const;

export const K6_LABELS = {
  ...SAMPLE_TAGS,
  scenario: 'scenario',
  /** Set by the k6-operator on every runner: the TestRun's name, which is also the run id of a k6 export. */
  testRun: 'testrun_name',
  runner: 'instance_id',
  /** Set by the export on every runner: the export's run id (shared by all scenarios of one export). */
  run: 'clawstorm_run',
} as const;
