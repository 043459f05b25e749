// One sync's inputs, read from Prometheus at one evaluation time: the same function for the replay
// of a run and for the live controller of a test bed, so both feed the autoscaler identical inputs
// whenever Prometheus gives identical answers — which it does for a time whose samples have all
// been ingested (the live loop waits a settle delay before it reads; see live.ts).
//
// Every answer is kept in the normalized wire shape of `/api/v1/query` (series sorted by their
// labels), so a recorded observation can be compared, or replayed, query by query. Nothing here
// turns a missing series into a zero: a pod without a sample is `null` (the HPA's missing pod), a
// query without any series is noted as a gap, and KEDA reads its raw answer by its own rules
// (ignoreNullValues).
import type { SyncInput } from '../autoscale/controller.ts';
import type { GatewayDisk } from '../chaos/watermark.ts';
import type { MetricSample, PodInfo } from '../autoscale/hpa/types.ts';
import type { TriggerSample } from '../autoscale/keda/keda.ts';
import { diskGates } from '../../contract/probe.ts';
import { PromError, type InstantResult, type Labels, type PromClient } from '../prom/client.ts';
import type { ObservationPlan, PlannedRead } from './plan.ts';

/** The normalized answer of one instant query (what the HTTP API returns, minus warnings). */
export type WireAnswer =
  | { status: 'success'; data: { resultType: 'vector'; result: Array<{ metric: Labels; value: [number, string] }> } }
  | { status: 'success'; data: { resultType: 'scalar'; result: [number, string] } }
  | { status: 'error'; errorType: string; error: string };

/** Answers an instant query at `time` (unix seconds). Throws only when Prometheus cannot answer. */
export type QueryAt = (query: string, time: number) => Promise<WireAnswer>;

/** Prometheus's own text for a float (Go's 'f' -1 format aside, parseGoFloat reads both). */
function wireValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelKey(l: Labels): string {
  return JSON.stringify(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function toWire(r: InstantResult): WireAnswer {
  if (r.type === 'scalar') return { status: 'success', data: { resultType: 'scalar', result: [r.t, wireValue(r.v)] } };
  if (r.type === 'vector') {
    const result = r.series
      .map((s) => ({ metric: Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), value: [s.t, wireValue(s.v)] as [number, string] }))
      .sort((a, b) => (labelKey(a.metric) < labelKey(b.metric) ? -1 : 1));
    return { status: 'success', data: { resultType: 'vector', result } };
  }
  return { status: 'error', errorType: 'bad_data', error: `query answered a ${r.type}; an instant vector or scalar is needed` };
}

/** A QueryAt over a Prometheus client: PromQL errors become error answers, unreachability throws. */
export function queryAtClient(client: PromClient): QueryAt {
  return async (query, time) => {
    try {
      return toWire(await client.instant(query, time));
    } catch (err) {
      if (err instanceof PromError && err.kind === 'query') return { status: 'error', errorType: err.errorType ?? 'query', error: err.message };
      throw err;
    }
  };
}

interface Series {
  labels: Labels;
  v: number;
}

function seriesOf(a: WireAnswer): Series[] | { error: string } {
  if (a.status === 'error') return { error: `${a.errorType}: ${a.error}` };
  if (a.data.resultType === 'scalar') return [{ labels: {}, v: parseWire(a.data.result[1]) }];
  return a.data.result.map((s) => ({ labels: s.metric, v: parseWire(s.value[1]) }));
}

function parseWire(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** A place a series was missing or unusable at this sync. */
export interface Gap {
  what: string;
  detail: string;
}

/** The scrape-gap check of one `avg(…)` metric at one sync. */
export interface OverReadProbe {
  key: string;
  /** Replicas that exist (scrape targets). */
  pods: number;
  /** Series present under the average. */
  present: number;
  /** Pods without a series. */
  missing: string[];
  sum: number | null;
  /** What avg() reads: sum ÷ present. */
  avgPresent: number | null;
  /** What the per-pod value is: sum ÷ replicas. */
  perReplica: number | null;
}

export interface Observation {
  time: number;
  /** null: the replica count had no series, so no sync can run. */
  input: SyncInput | null;
  /** The same input with every avg() over-read replaced by sum ÷ replicas (null: no over-read). */
  corrected: SyncInput | null;
  /** Every answer, by query text. */
  answers: Record<string, WireAnswer>;
  gaps: Gap[];
  overRead: OverReadProbe[];
}

/** Everything the plan names, read at `time`, turned into a SyncInput. */
export async function observeAt(query: QueryAt, plan: ObservationPlan, time: number): Promise<Observation> {
  const answers: Record<string, WireAnswer> = {};
  const ask = async (q: string): Promise<WireAnswer> => {
    const a = answers[q] ?? (await query(q, time));
    answers[q] = a;
    return a;
  };
  const g = plan.guardrails;
  const queries = [
    plan.podsQuery,
    plan.replicasQuery,
    ...plan.reads.map((r) => r.read.query),
    ...plan.reads.flatMap((r) => (r.avgInner === null ? [] : [r.avgInner])),
    ...[g.degradedQuery, g.diskRatioQuery, g.diskGateQuery, g.canaryActiveQuery].filter((q): q is string => q !== null),
  ];
  // Sequential on purpose: a 2-core machine runs the fleet too, and the order makes no difference.
  for (const q of [...new Set(queries)]) await ask(q);
  return observationFromAnswers(plan, time, answers);
}

/** The pure half of observeAt: answers in, inputs out (also how a recorded observation is rebuilt). */
export function observationFromAnswers(plan: ObservationPlan, time: number, answers: Readonly<Record<string, WireAnswer>>): Observation {
  const gaps: Gap[] = [];
  const get = (q: string): WireAnswer => {
    const a = answers[q];
    if (a === undefined) throw new Error(`no answer recorded for query ${q}`);
    return a;
  };
  const label = plan.podLabel;

  // ── pods and replicas ──
  const podSeries = seriesOf(get(plan.podsQuery));
  let podNames: string[] = [];
  if ('error' in podSeries) gaps.push({ what: 'pods', detail: `${plan.podsQuery}: ${podSeries.error}` });
  else {
    const unlabelled = podSeries.filter((s) => s.labels[label] === undefined).length;
    if (unlabelled > 0) gaps.push({ what: 'pods', detail: `${unlabelled} series of ${plan.podsQuery} have no ${label} label` });
    podNames = [...new Set(podSeries.flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label]])))].sort();
    if (podNames.length === 0) gaps.push({ what: 'pods', detail: `${plan.podsQuery}: no series` });
    // `up` is 0 for a target whose scrape failed: the pod exists, its own series are missing.
    if (/^\s*up\s*(\{|$)/.test(plan.podsQuery)) {
      const failed = podSeries.filter((x) => x.v === 0 && x.labels[label] !== undefined).map((x) => x.labels[label]!);
      if (failed.length > 0) gaps.push({ what: 'scrape', detail: `${[...new Set(failed)].sort().join(', ')}: ${plan.podsQuery} is 0 (the scrape failed; its series are missing)` });
    }
  }
  const pods: PodInfo[] = podNames.map((name) => (plan.requests === null ? { name } : { name, requests: { cpu: plan.requests.cpu, memory: plan.requests.memory } }));

  const replicaSeries = seriesOf(get(plan.replicasQuery));
  let replicas: number | null = null;
  if ('error' in replicaSeries) gaps.push({ what: 'replicas', detail: `${plan.replicasQuery}: ${replicaSeries.error}` });
  else if (replicaSeries.length !== 1 || !Number.isFinite(replicaSeries[0]!.v) || replicaSeries[0]!.v < 0) {
    gaps.push({ what: 'replicas', detail: `${plan.replicasQuery}: ${replicaSeries.length === 0 ? 'no series' : replicaSeries.length > 1 ? `${replicaSeries.length} series, need one` : `value ${replicaSeries[0]!.v}`}` });
  } else replicas = Math.round(replicaSeries[0]!.v);

  // ── metrics and triggers ──
  const metrics: Record<string, MetricSample> = {};
  const triggers: Record<string, TriggerSample> = {};
  for (const r of plan.reads) {
    const sample = sampleOf(r, get(r.read.query), podNames, label, gaps);
    if (r.into === 'metrics') metrics[r.key] = sample as MetricSample;
    else triggers[r.key] = sample as TriggerSample;
  }

  // ── guardrail signals ──
  const guardrails: NonNullable<SyncInput['guardrails']> = {};
  const gq = plan.guardrails;
  const unsignalled = (what: string, have: readonly string[]) => {
    const missing = podNames.filter((p) => !have.includes(p));
    if (missing.length > 0 && have.length > 0) gaps.push({ what, detail: `no signal from ${missing.join(', ')}: judged on the other replicas` });
  };
  if (gq.degradedQuery !== null) {
    const s = seriesOf(get(gq.degradedQuery));
    if (!('error' in s) && s.length > 0) {
      guardrails.degradedGateways = s.filter((x) => x.v === 1).map((x) => x.labels[label] ?? '(unlabelled)').sort();
      unsignalled('guardrail degraded', s.flatMap((x) => (x.labels[label] === undefined ? [] : [x.labels[label]!])));
    }
  }
  if (gq.diskRatioQuery !== null && gq.diskGateQuery !== null) {
    const disks = disksOf(seriesOf(get(gq.diskRatioQuery)), seriesOf(get(gq.diskGateQuery)), label);
    if (disks.length > 0) {
      guardrails.disks = disks;
      unsignalled('guardrail disk', disks.map((d) => d.gateway));
    }
  }
  if (gq.canaryActiveQuery !== null) {
    const s = seriesOf(get(gq.canaryActiveQuery));
    if (!('error' in s) && s.length > 0) guardrails.canaryActive = s.some((x) => x.v > 0);
  }

  // ── the scrape-gap over-read of avg() metrics ──
  const overRead: OverReadProbe[] = [];
  for (const r of plan.reads) {
    if (r.avgInner === null) continue;
    const probe = overReadOf(r.key, seriesOf(get(r.avgInner)), podNames, label);
    overRead.push(probe);
    if (probe.missing.length > 0) gaps.push({ what: r.key, detail: `avg() over ${probe.present} of ${probe.pods} replicas: no series from ${probe.missing.join(', ')} (${r.avgInner})` });
  }

  if (replicas === null) return { time, input: null, corrected: null, answers: { ...answers }, gaps, overRead };
  const input: SyncInput = { time, replicas, statusReplicas: pods.length, readyReplicas: pods.length, pods, metrics, triggers, guardrails };
  return { time, input, corrected: correctedInput(plan, input, overRead), answers: { ...answers }, gaps, overRead };
}

function sampleOf(r: PlannedRead, answer: WireAnswer, pods: readonly string[], label: string, gaps: Gap[]): MetricSample | TriggerSample {
  const what = r.key;
  if (r.read.kind === 'keda') {
    const s = seriesOf(answer);
    if ('error' in s) gaps.push({ what, detail: `${r.read.query}: ${s.error}` });
    else if (s.length === 0) gaps.push({ what, detail: `${r.read.query}: no series (KEDA's ignoreNullValues decides)` });
    else if (s.some((x) => !Number.isFinite(x.v))) gaps.push({ what, detail: `${r.read.query}: value ${s.map((x) => x.v).join(', ')} (KEDA's ignoreNullValues decides)` });
    return { prometheus: answer };
  }
  const s = seriesOf(answer);
  if ('error' in s) {
    gaps.push({ what, detail: `${r.read.query}: ${s.error}` });
    return { error: `prometheus: ${s.error}` };
  }
  switch (r.read.kind) {
    case 'perPod': {
      const perPod: Record<string, number | null> = {};
      const missing: string[] = [];
      for (const pod of pods) {
        const mine = s.filter((x) => x.labels[label] === pod);
        const v = mine.length === 0 ? null : mine.reduce((a, x) => a + x.v, 0);
        perPod[pod] = v !== null && Number.isFinite(v) ? v : null;
        if (perPod[pod] === null) missing.push(v === null ? pod : `${pod} (${v})`);
      }
      if (missing.length > 0) gaps.push({ what, detail: `no usable sample for pod ${missing.join(', ')} (${r.read.query})` });
      return { perPod };
    }
    case 'value': {
      if (s.length !== 1 || !Number.isFinite(s[0]!.v)) {
        const detail = s.length === 0 ? 'no series' : s.length > 1 ? `${s.length} series, an Object metric needs one` : `value ${s[0]!.v}`;
        gaps.push({ what, detail: `${r.read.query}: ${detail}` });
        return { error: detail };
      }
      return { value: s[0]!.v };
    }
    case 'values': {
      const finite = s.filter((x) => Number.isFinite(x.v));
      if (finite.length < s.length) gaps.push({ what, detail: `${r.read.query}: ${s.length - finite.length} series without a finite value left out` });
      if (s.length === 0) gaps.push({ what, detail: `${r.read.query}: no series` });
      return { values: finite.map((x) => x.v) };
    }
  }
}

function disksOf(ratio: Series[] | { error: string }, gates: Series[] | { error: string }, label: string): GatewayDisk[] {
  if ('error' in ratio) return [];
  const gateList = 'error' in gates ? [] : gates;
  const fallback = diskGates(1e12);
  return ratio
    .filter((s) => s.labels[label] !== undefined && Number.isFinite(s.v))
    .map((s) => {
      const gw = s.labels[label]!;
      const gate = (name: string, dflt: number) => gateList.find((x) => x.labels[label] === gw && x.labels.gate === name)?.v ?? dflt;
      const yellow = gate('yellow', fallback.yellow);
      return { gateway: gw, az: s.labels.az ?? '', ratio: s.v, yellow, red: gate('red', fallback.red), diskOk: s.v < yellow };
    })
    .sort((a, b) => (a.gateway < b.gateway ? -1 : 1));
}

function overReadOf(key: string, inner: Series[] | { error: string }, pods: readonly string[], label: string): OverReadProbe {
  const present = 'error' in inner ? [] : inner.filter((s) => Number.isFinite(s.v));
  const presentPods = new Set(present.map((s) => s.labels[label]).filter((x): x is string => x !== undefined));
  const missing = pods.filter((p) => !presentPods.has(p));
  const sum = present.length === 0 ? null : present.reduce((a, s) => a + s.v, 0);
  return {
    key,
    pods: pods.length,
    present: present.length,
    missing,
    sum,
    avgPresent: sum === null ? null : sum / present.length,
    perReplica: sum === null || pods.length === 0 ? null : sum / pods.length,
  };
}

/** The input as it would be with each over-reading avg() replaced by sum ÷ replicas. */
function correctedInput(plan: ObservationPlan, input: SyncInput, probes: readonly OverReadProbe[]): SyncInput | null {
  const off = probes.filter((p) => p.present < p.pods && p.present > 0 && p.perReplica !== null);
  if (off.length === 0) return null;
  const metrics: Record<string, MetricSample> = { ...input.metrics };
  const triggers: Record<string, TriggerSample> = { ...input.triggers };
  for (const p of off) {
    const r = plan.reads.find((x) => x.key === p.key)!;
    const v = p.perReplica!;
    if (r.read.kind === 'value') metrics[p.key] = { value: v };
    else if (r.read.kind === 'values') metrics[p.key] = { values: [v] };
    else if (r.read.kind === 'keda') triggers[p.key] = { prometheus: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [input.time, wireValue(v)] }] } } satisfies WireAnswer };
  }
  return { ...input, metrics, triggers };
}
