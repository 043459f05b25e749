// Writes series shaped like those of k6's `experimental-prometheus-rw` output (native-histograms
// feature on, k6-operator labels) into a real Prometheus through its remote-write receiver, so the
// judge can be tested on what a distributed k6 run leaves behind without a k6 binary. The
// histograms are built from raw samples the way client_golang builds them for k6's bucket factor
// 1.1: schema 3, bucket index ceil(log2(v) · 2³), cumulative per runner, pushed every interval.
import protobuf from 'protobufjs';
import SnappyJS from 'snappyjs';

// The remote-write 1.0 messages this writer uses (Prometheus prompb/types.proto, by field number).
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message Sample { double value = 1; int64 timestamp = 2; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  int32 reset_hint = 14;
  int64 timestamp = 15;
}
message Label { string name = 1; string value = 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Histogram histograms = 4; }
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

export const K6_SCHEMA = 3;
const ZERO_THRESHOLD = 2 ** -128;

/** Native histogram of `values` (seconds) at `schema`, as remote write carries it. */
export function nativeHistogram(values: readonly number[], timestamp: number, schema = K6_SCHEMA) {
  const counts = new Map<number, number>();
  let zero = 0;
  let sum = 0;
  for (const v of values) {
    sum += v;
    if (v <= ZERO_THRESHOLD) {
      zero += 1;
      continue;
    }
    const i = Math.ceil(Math.log2(v) * 2 ** schema);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  const spans: Array<{ offset: number; length: number }> = [];
  const deltas: number[] = [];
  let prevIdx: number | undefined;
  let prevCount = 0;
  for (const i of [...counts.keys()].sort((a, b) => a - b)) {
    if (prevIdx === undefined) spans.push({ offset: i, length: 1 });
    else if (i === prevIdx + 1) (spans.at(-1) as { length: number }).length += 1;
    else spans.push({ offset: i - prevIdx - 1, length: 1 });
    const c = counts.get(i) as number;
    deltas.push(c - prevCount);
    prevCount = c;
    prevIdx = i;
  }
  return { countInt: values.length, sum, schema, zeroThreshold: ZERO_THRESHOLD, zeroCountInt: zero, positiveSpans: spans, positiveDeltas: deltas, timestamp };
}

export interface K6Request {
  /** Seconds after the runner's start. */
  at: number;
  scenario: string;
  step: string;
  kind: string;
  call: string;
  status: number;
  /** Seconds. */
  duration: number;
}

/** A WebSocket step's sample (connect, an RPC, close), as the exported runtime records it. */
export interface K6WsSample {
  at: number;
  scenario: string;
  step: string;
  kind: string;
  call: string;
  ok: boolean;
  /** Seconds; absent when the failure had no timing. */
  duration?: number;
}

export interface K6Runner {
  instance: number;
  /** Unix ms of the runner's start. */
  startMs: number;
  requests: K6Request[];
  ws?: K6WsSample[];
  /** Iterations completed per scenario, at the end. */
  iterations: Record<string, number>;
  /** Arrivals dropped per scenario, at the end (absent: k6 writes no series). */
  dropped?: Record<string, number>;
}

/**
 * Push one runner's series as k6 would: every `pushEveryS`, the cumulative counters and
 * histograms of everything it measured so far, with the operator's labels.
 */
export async function writeK6Runner(writeUrl: string, testrun: string, r: K6Runner, pushEveryS = 5): Promise<number> {
  const end = Math.max(0, ...r.requests.map((q) => q.at), ...(r.ws ?? []).map((q) => q.at));
  let pushes = 0;
  for (let t = pushEveryS; t < end + pushEveryS; t += pushEveryS) {
    const ts = r.startMs + Math.round(t * 1000);
    const last = t >= end;
    const seen = r.requests.filter((q) => q.at < t || (last && q.at <= t));
    const base = { testrun_name: testrun, instance_id: String(r.instance) };
    const reqs = new Map<string, { labels: Record<string, string>; n: number; durations: number[] }>();
    for (const q of seen) {
      const labels = { ...base, scenario: q.scenario, step: q.step, kind: q.kind, call: q.call, method: 'POST', status: String(q.status), expected_response: String(q.status >= 200 && q.status < 400) };
      const key = JSON.stringify(labels);
      const e = reqs.get(key) ?? { labels, n: 0, durations: [] as number[] };
      e.n += 1;
      e.durations.push(q.duration);
      reqs.set(key, e);
    }
    const series: unknown[] = [];
    const labelList = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));
    for (const e of reqs.values()) {
      series.push({ labels: labelList({ __name__: 'k6_http_reqs_total', ...e.labels }), samples: [{ value: e.n, timestamp: ts }] });
      series.push({ labels: labelList({ __name__: 'k6_http_req_duration_seconds', ...e.labels }), histograms: [nativeHistogram(e.durations, ts)] });
    }
    const wsCounts = new Map<string, { labels: Record<string, string>; n: number }>();
    const wsTimes = new Map<string, { labels: Record<string, string>; durations: number[] }>();
    for (const q of (r.ws ?? []).filter((x) => x.at < t || (last && x.at <= t))) {
      const tags = { ...base, scenario: q.scenario, step: q.step, kind: q.kind, call: q.call };
      const counted = { ...tags, ok: String(q.ok) };
      const c = wsCounts.get(JSON.stringify(counted)) ?? { labels: counted, n: 0 };
      c.n += 1;
      wsCounts.set(JSON.stringify(counted), c);
      if (q.duration !== undefined) {
        const d = wsTimes.get(JSON.stringify(tags)) ?? { labels: tags, durations: [] as number[] };
        d.durations.push(q.duration);
        wsTimes.set(JSON.stringify(tags), d);
      }
    }
    for (const c of wsCounts.values()) series.push({ labels: labelList({ __name__: 'k6_clawstorm_ws_samples_total', ...c.labels }), samples: [{ value: c.n, timestamp: ts }] });
    for (const d of wsTimes.values()) series.push({ labels: labelList({ __name__: 'k6_clawstorm_ws_duration_seconds', ...d.labels }), histograms: [nativeHistogram(d.durations, ts)] });
    const fraction = Math.min(1, t / end);
    for (const [scenario, n] of Object.entries(r.iterations)) {
      series.push({ labels: labelList({ __name__: 'k6_iterations_total', ...base, scenario }), samples: [{ value: last ? n : Math.floor(n * fraction), timestamp: ts }] });
    }
    if (last) for (const [scenario, n] of Object.entries(r.dropped ?? {})) series.push({ labels: labelList({ __name__: 'k6_dropped_iterations_total', ...base, scenario }), samples: [{ value: n, timestamp: ts }] });
    const body = SnappyJS.compress(WriteRequest.encode(WriteRequest.fromObject({ timeseries: series })).finish());
    const res = await fetch(writeUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
      body,
    });
    if (res.status >= 300) throw new Error(`remote write: ${res.status} ${await res.text()}`);
    pushes += 1;
  }
  return pushes;
}
