// One proposal per metric of the HPA, then the HPA's choice among them
// (computeReplicasForMetric(s) in horizontal.go): the largest proposal wins; if some metrics failed
// and the largest proposal would scale down, nothing changes (no scale-down on partial data); if
// every metric failed, nothing changes either.
import { floatToMilli } from '../quantity.ts';
import {
  averageTotalReplicas,
  averageValueReplicas,
  MetricFailure,
  resourceUtilizationReplicas,
  valueReplicas,
  type CalcResult,
  type PodSamples,
} from './replica-calc.ts';
import type { HpaControllerOptions, MetricSample, MetricSpec, PodInfo, Tolerances } from './types.ts';

/** What the HPA had to work with at one sync. */
export interface MetricContext {
  now: number;
  /** scale.spec.replicas: what the target is asked to run. */
  specReplicas: number;
  /** scale.status.replicas: what exists. */
  statusReplicas: number;
  /** Running and Ready pods (Object/External Value targets multiply by it). */
  readyPods: number;
  pods: readonly PodInfo[];
  tolerances: Tolerances;
  options: HpaControllerOptions;
}

export interface MetricOutcome {
  key: string;
  /** Replicas this metric asks for, or null when it failed. */
  proposal: number | null;
  /** Current value as the HPA's status shows it: utilisation % or the value in base units. */
  current: number | null;
  /** Why it failed (the HPA's event message), or null. */
  error: string | null;
}

function perPod(sample: MetricSample | undefined, key: string): PodSamples {
  if (sample === undefined) throw new MetricFailure(`no sample for metric ${key}`);
  if ('error' in sample) throw new MetricFailure(sample.error);
  if (!('perPod' in sample)) throw new MetricFailure(`metric ${key} needs per-pod values`);
  const values = new Map<string, number>();
  for (const [pod, v] of Object.entries(sample.perPod)) {
    if (v === null) continue; // an explicit "no sample for this pod": a missing pod
    if (!Number.isFinite(v)) throw new MetricFailure(`metric ${key} has a non-finite value ${v} for pod ${pod}`);
    values.set(pod, floatToMilli(v));
  }
  const out: PodSamples = { values };
  if (sample.timestamp !== undefined) out.timestamp = sample.timestamp;
  if (sample.windowSeconds !== undefined) out.windowSeconds = sample.windowSeconds;
  return out;
}

function scalar(sample: MetricSample | undefined, key: string): number {
  if (sample === undefined) throw new MetricFailure(`no sample for metric ${key}`);
  if ('error' in sample) throw new MetricFailure(sample.error);
  if ('value' in sample) {
    if (!Number.isFinite(sample.value)) throw new MetricFailure(`metric ${key} has a non-finite value ${sample.value}`);
    return floatToMilli(sample.value);
  }
  if ('values' in sample) {
    // The external metrics API returns zero or more series; the HPA sums them. None is an error.
    if (sample.values.length === 0) throw new MetricFailure(`no metrics returned from external metrics API for ${key}`);
    let total = 0;
    for (const v of sample.values) {
      if (!Number.isFinite(v)) throw new MetricFailure(`metric ${key} has a non-finite value ${v}`);
      total += floatToMilli(v);
    }
    return total;
  }
  throw new MetricFailure(`metric ${key} needs a value, not per-pod values`);
}

function need(x: number | undefined, what: string): number {
  if (x === undefined) throw new MetricFailure(`invalid metric source: ${what} target not set`);
  return x;
}

function computeOne(spec: MetricSpec, sample: MetricSample | undefined, ctx: MetricContext): CalcResult {
  const base = { currentReplicas: ctx.specReplicas, tolerances: ctx.tolerances, now: ctx.now, options: ctx.options };
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const samples = perPod(sample, spec.key);
      const pods = ctx.pods.length > 0 ? ctx.pods : podsWithNullEntries(sample, samples);
      const container = spec.type === 'ContainerResource' ? spec.container : null;
      if (spec.target.type === 'AverageValue') {
        return averageValueReplicas({ ...base, pods, samples, targetAverage: need(spec.target.averageValue, 'averageValue'), resource: spec.resource });
      }
      return resourceUtilizationReplicas({ ...base, pods, samples, targetUtilization: need(spec.target.averageUtilization, 'averageUtilization'), resource: spec.resource, container });
    }
    case 'Pods': {
      const samples = perPod(sample, spec.key);
      const pods = ctx.pods.length > 0 ? ctx.pods : podsWithNullEntries(sample, samples);
      return averageValueReplicas({ ...base, pods, samples, targetAverage: need(spec.target.averageValue, 'averageValue'), resource: null });
    }
    case 'Object':
    case 'External': {
      const usage = scalar(sample, spec.key);
      if (spec.target.type === 'Value') {
        const podCount = ctx.pods.length > 0 ? ctx.pods.length : ctx.statusReplicas;
        return valueReplicas({ currentReplicas: ctx.specReplicas, usage, target: need(spec.target.value, 'value'), readyPods: ctx.readyPods, podCount, tolerances: ctx.tolerances });
      }
      return averageTotalReplicas({ statusReplicas: ctx.statusReplicas, total: usage, targetAverage: need(spec.target.averageValue, 'averageValue'), tolerances: ctx.tolerances });
    }
  }
}

/** Pods named by a per-pod sample, including those whose value is null (missing). */
function podsWithNullEntries(sample: MetricSample | undefined, samples: PodSamples): readonly PodInfo[] {
  if (sample !== undefined && 'perPod' in sample) return Object.keys(sample.perPod).map((name) => ({ name }));
  return [...samples.values.keys()].map((name) => ({ name }));
}

/** Reports a metric's current value in base units (utilisation stays a percentage). */
function reportedCurrent(spec: MetricSpec, result: CalcResult): number {
  const isUtilization = (spec.type === 'Resource' || spec.type === 'ContainerResource') && spec.target.type === 'Utilization';
  return isUtilization ? result.usage : result.usage / 1000;
}

export interface MetricsResult {
  /** The proposal to act on, or null when the HPA must not act (all failed, or partial data on a scale-down). */
  replicas: number | null;
  /** Key of the metric that gave the proposal. */
  metric: string | null;
  outcomes: MetricOutcome[];
  /** Set when replicas is null, or when some metrics failed but a scale-up still goes ahead. */
  error: string | null;
}

export function computeReplicasForMetrics(specs: readonly MetricSpec[], samples: Readonly<Record<string, MetricSample>>, ctx: MetricContext): MetricsResult {
  const outcomes: MetricOutcome[] = [];
  let replicas = 0;
  let metric: string | null = null;
  let invalid = 0;
  let firstError: string | null = null;
  for (const spec of specs) {
    try {
      const result = computeOne(spec, samples[spec.key], ctx);
      outcomes.push({ key: spec.key, proposal: result.replicas, current: finiteOrNull(reportedCurrent(spec, result)), error: null });
      if (replicas === 0 || result.replicas > replicas) {
        replicas = result.replicas;
        metric = spec.key;
      }
    } catch (err) {
      if (!(err instanceof MetricFailure)) throw err;
      invalid += 1;
      firstError ??= `${spec.key}: ${err.message}`;
      outcomes.push({ key: spec.key, proposal: null, current: null, error: err.message });
    }
  }
  const summary = invalid > 0 ? `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError}` : null;
  if (invalid >= specs.length || (invalid > 0 && replicas < ctx.specReplicas)) {
    return { replicas: null, metric: null, outcomes, error: summary };
  }
  return { replicas, metric, outcomes, error: summary };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

