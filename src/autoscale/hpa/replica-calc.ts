// The HPA's replica calculation, one function per metric source and target type, as
// kube-controller-manager computes it (pkg/controller/podautoscaler/replica_calculator.go).
// All values are milli-units and the arithmetic is the controller's integer arithmetic:
// utilisation is floor(100 × Σusage ÷ Σrequests) and a Pods average is floor(Σ ÷ n), which is
// why a ratio of 1.099 can be "within tolerance" here when a float average would say 1.1.
//
// The rules that make the HPA conservative with incomplete data:
// - pods without a sample ("missing") count as using 100 % of their request (Resource: or the
//   target when it is above 100 %; Pods: exactly the target) when scaling down, and 0 when
//   scaling up;
// - unready pods (always Pending ones; for CPU also pods still starting) are left out, and are
//   added back as 0 only when scaling up;
// - after that substitution the ratio is recomputed: the result is the current count when the new
//   ratio is within tolerance or points the other way, and also when the new count would move
//   against the ratio's direction.
import { quantityToMilli } from '../quantity.ts';
import type { HpaControllerOptions, PodInfo, Tolerances } from './types.ts';

/** The metric could give no proposal this sync; the message says why, like the HPA's event. */
export class MetricFailure extends Error {
  override readonly name = 'MetricFailure';
}

export function withinTolerance(t: Tolerances, ratio: number): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

export interface PodSamples {
  /** Milli-value per pod that had a sample. */
  values: ReadonlyMap<string, number>;
  /** When the samples were taken and over what window (CPU readiness rule). */
  timestamp?: number;
  windowSeconds?: number;
}

type ReadinessOptions = Pick<HpaControllerOptions, 'cpuInitializationPeriodSeconds' | 'initialReadinessDelaySeconds'>;

interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** metrics-server's default resolution, the window of a sample when none is given. */
const DEFAULT_SAMPLE_WINDOW_SECONDS = 15;

function groupPods(pods: readonly PodInfo[], samples: PodSamples, resource: string | null, now: number, options: ReadinessOptions): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const phase = pod.phase ?? 'Running';
    if (pod.deleted === true || phase === 'Failed') {
      groups.ignored.add(pod.name);
      continue;
    }
    if (phase === 'Pending') {
      groups.unready.add(pod.name);
      continue;
    }
    if (!samples.values.has(pod.name)) {
      groups.missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu' && cpuSampleUnready(pod, samples, now, options)) {
      groups.unready.add(pod.name);
      continue;
    }
    groups.readyPodCount += 1;
  }
  return groups;
}

/**
 * A CPU sample taken while the pod was starting is not trusted. With start and Ready-transition
 * times this is Kubernetes' rule; without them, a pod is unready exactly when Ready is false.
 */
function cpuSampleUnready(pod: PodInfo, samples: PodSamples, now: number, options: ReadinessOptions): boolean {
  const ready = pod.ready ?? true;
  if (pod.startTime === undefined || pod.readyTransitionTime === undefined) return !ready;
  if (pod.startTime + options.cpuInitializationPeriodSeconds > now) {
    const sampledAt = samples.timestamp ?? now;
    const window = samples.windowSeconds ?? DEFAULT_SAMPLE_WINDOW_SECONDS;
    return !ready || sampledAt < pod.readyTransitionTime + window;
  }
  return !ready && pod.startTime + options.initialReadinessDelaySeconds > pod.readyTransitionTime;
}

function requestMilli(pod: PodInfo, resource: string, container: string | null): bigint {
  const amount = container === null ? pod.requests?.[resource] : pod.containerRequests?.[container]?.[resource];
  if (container !== null && pod.containerRequests?.[container] === undefined) {
    throw new MetricFailure(`container ${container} not found in Pod ${pod.name}`);
  }
  const milli = amount === undefined ? undefined : quantityToMilli(amount);
  if (milli === undefined) {
    throw new MetricFailure(container === null ? `missing request for ${resource} in Pod ${pod.name}` : `missing request for ${resource} in container ${container} of Pod ${pod.name}`);
  }
  return BigInt(milli);
}

/** floor(100 × Σusage ÷ Σrequests) over the pods that have both, and the raw average usage. */
function utilization(values: ReadonlyMap<string, number>, requests: ReadonlyMap<string, bigint>): { utilization: number; rawAverage: number } {
  let usage = 0n;
  let requested = 0n;
  let entries = 0n;
  for (const [pod, value] of values) {
    const request = requests.get(pod);
    if (request === undefined) continue; // a metric for a pod the lister does not know
    usage += BigInt(value);
    requested += request;
    entries += 1n;
  }
  if (requested === 0n) throw new MetricFailure('no metrics returned matched known pods');
  return { utilization: Number((usage * 100n) / requested), rawAverage: Number(usage / entries) };
}

/** floor(Σ ÷ n). */
function average(values: ReadonlyMap<string, number>): number {
  let total = 0n;
  for (const v of values.values()) total += BigInt(v);
  return Number(total / BigInt(values.size));
}

export interface CalcResult {
  replicas: number;
  /** The metric's current value as the HPA reports it: utilisation % or milli-value. */
  usage: number;
  /** The usage ratio the decision was made on (before substitutions). */
  ratio: number;
}

export interface PodMetricInput {
  currentReplicas: number;
  pods: readonly PodInfo[];
  samples: PodSamples;
  tolerances: Tolerances;
  now: number;
  options: ReadinessOptions;
}

function requirePods(count: number): void {
  if (count === 0) throw new MetricFailure('no pods returned by selector while calculating replica count');
}

/** Resource / ContainerResource with a Utilization target (percent of request). */
export function resourceUtilizationReplicas(
  input: PodMetricInput & { targetUtilization: number; resource: string; container: string | null },
): CalcResult & { rawAverage: number } {
  const { pods, samples, tolerances, currentReplicas, targetUtilization } = input;
  requirePods(pods.length);
  const groups = groupPods(pods, samples, input.resource, input.now, input.options);
  const metrics = new Map(samples.values);
  for (const pod of [...groups.ignored, ...groups.unready]) metrics.delete(pod);
  if (metrics.size === 0) throw new MetricFailure('did not receive metrics for targeted pods (pods might be unready)');
  const requests = new Map<string, bigint>();
  for (const pod of pods) requests.set(pod.name, requestMilli(pod, input.resource, input.container));

  const first = utilization(metrics, requests);
  const ratio = first.utilization / targetUtilization;
  const result = (replicas: number): CalcResult & { rawAverage: number } => ({ replicas, usage: first.utilization, ratio, rawAverage: first.rawAverage });

  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (withinTolerance(tolerances, ratio)) return result(currentReplicas);
    return result(Math.ceil(ratio * groups.readyPodCount));
  }
  if (groups.missing.size > 0) {
    if (ratio < 1) {
      const assumed = BigInt(Math.max(100, targetUtilization));
      for (const pod of groups.missing) metrics.set(pod, Number(((requests.get(pod) ?? 0n) * assumed) / 100n));
    } else if (ratio > 1) {
      for (const pod of groups.missing) metrics.set(pod, 0);
    }
  }
  if (scaleUpWithUnready) for (const pod of groups.unready) metrics.set(pod, 0);

  const newRatio = utilization(metrics, requests).utilization / targetUtilization;
  return result(rebalanced(currentReplicas, ratio, newRatio, metrics.size, tolerances));
}

/** Pods metrics, and Resource metrics with an AverageValue target: an average per pod. */
export function averageValueReplicas(input: PodMetricInput & { targetAverage: number; resource: string | null }): CalcResult {
  const { pods, samples, tolerances, currentReplicas, targetAverage } = input;
  requirePods(pods.length);
  const groups = groupPods(pods, samples, input.resource, input.now, input.options);
  const metrics = new Map(samples.values);
  for (const pod of [...groups.ignored, ...groups.unready]) metrics.delete(pod);
  if (metrics.size === 0) throw new MetricFailure('did not receive metrics for targeted pods (pods might be unready)');

  const usage = average(metrics);
  const ratio = usage / targetAverage;
  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (withinTolerance(tolerances, ratio)) return { replicas: currentReplicas, usage, ratio };
    return { replicas: Math.ceil(ratio * groups.readyPodCount), usage, ratio };
  }
  if (groups.missing.size > 0) {
    // On a scale-down a missing pod is assumed to sit exactly at the target.
    if (ratio < 1) for (const pod of groups.missing) metrics.set(pod, targetAverage);
    else if (ratio > 1) for (const pod of groups.missing) metrics.set(pod, 0);
  }
  if (scaleUpWithUnready) for (const pod of groups.unready) metrics.set(pod, 0);

  const newRatio = average(metrics) / targetAverage;
  return { replicas: rebalanced(currentReplicas, ratio, newRatio, metrics.size, tolerances), usage, ratio };
}

function rebalanced(currentReplicas: number, ratio: number, newRatio: number, counted: number, tolerances: Tolerances): number {
  const flipped = (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1);
  if (withinTolerance(tolerances, newRatio) || flipped) return currentReplicas;
  const replicas = Math.ceil(newRatio * counted);
  // Counting more pods than before can push the count against the ratio: then hold.
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) return currentReplicas;
  return replicas;
}

const MAX_INT32 = 2147483647;

/**
 * Object and External metrics with a Value target: ratio × ready pods. From zero replicas the
 * ratio alone decides (this is how scale-from-zero works when the HPAScaleToZero gate allows it).
 */
export function valueReplicas(input: { currentReplicas: number; usage: number; target: number; readyPods: number; podCount: number; tolerances: Tolerances }): CalcResult {
  const ratio = input.usage / input.target;
  if (input.currentReplicas === 0) return { replicas: Math.ceil(ratio), usage: input.usage, ratio };
  if (withinTolerance(input.tolerances, ratio)) return { replicas: input.currentReplicas, usage: input.usage, ratio };
  requirePods(input.podCount);
  const raw = ratio * input.readyPods;
  return { replicas: raw > MAX_INT32 ? MAX_INT32 : Math.ceil(raw), usage: input.usage, ratio };
}

/**
 * Object and External metrics with an AverageValue target: the total divided by the target,
 * judged for tolerance against the replicas that exist (status replicas).
 */
export function averageTotalReplicas(input: { statusReplicas: number; total: number; targetAverage: number; tolerances: Tolerances }): CalcResult {
  const { statusReplicas, total, targetAverage } = input;
  const ratio = total / (targetAverage * statusReplicas);
  let replicas = statusReplicas;
  if (!withinTolerance(input.tolerances, ratio)) {
    const raw = Math.ceil(total / targetAverage);
    replicas = raw > MAX_INT32 ? MAX_INT32 : raw;
  }
  return { replicas, usage: Math.ceil(total / statusReplicas), ratio };
}
