// The HPA as ClawStorm models it: a validated autoscaling/v2 spec with every default filled in,
// and targets already in milli-units (the integer scale the controller computes in).

export type MetricTargetType = 'Utilization' | 'Value' | 'AverageValue';

export interface MetricTarget {
  type: MetricTargetType;
  /** Percent of the pods' request (Resource/ContainerResource with type Utilization). */
  averageUtilization?: number;
  /** Milli-units (type Value). */
  value?: number;
  /** Milli-units (type AverageValue). */
  averageValue?: number;
}

interface MetricBase {
  /** Stable name of the metric: how a sync's samples are keyed and how decisions name it. */
  key: string;
  target: MetricTarget;
}

export type MetricSpec =
  | (MetricBase & { type: 'Resource'; resource: string })
  | (MetricBase & { type: 'ContainerResource'; resource: string; container: string })
  | (MetricBase & { type: 'Pods'; metricName: string })
  | (MetricBase & { type: 'Object'; metricName: string; describedObject: { kind: string; name: string } })
  | (MetricBase & { type: 'External'; metricName: string });

export type PolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  type: PolicyType;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  /** null (scale-down only, when unset): the controller's downscale-stabilization flag applies. */
  stabilizationWindowSeconds: number | null;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicy[];
  /** Per-direction tolerance (HPAConfigurableTolerance); null uses the controller's. */
  tolerance: number | null;
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

export interface HpaSpec {
  name: string;
  minReplicas: number;
  maxReplicas: number;
  metrics: MetricSpec[];
  /** null: no behavior block, so the legacy normalization (5-minute window, scale-up limit) applies. */
  behavior: Behavior | null;
}

/** kube-controller-manager settings that shape every HPA. */
export interface HpaControllerOptions {
  /** --horizontal-pod-autoscaler-sync-period. */
  syncPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-tolerance. */
  tolerance: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization. */
  downscaleStabilizationSeconds: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period. */
  cpuInitializationPeriodSeconds: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay. */
  initialReadinessDelaySeconds: number;
}

export interface Tolerances {
  scaleDown: number;
  scaleUp: number;
}

/** A pod as the HPA sees it. Times are seconds on the same clock as the sync's `time`. */
export interface PodInfo {
  name: string;
  /** Default Running. Pending pods count as unready; Failed ones are ignored. */
  phase?: 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown';
  /** The Ready condition. Default true. */
  ready?: boolean;
  /** Being deleted: ignored entirely. */
  deleted?: boolean;
  /** For the CPU readiness rule: when the pod started, and when its Ready condition last changed. */
  startTime?: number;
  readyTransitionTime?: number;
  /** Requests summed over the pod's containers, in base units (cores, bytes), by resource name. */
  requests?: Readonly<Record<string, number>>;
  /** Requests per container (for ContainerResource metrics), in base units. */
  containerRequests?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * What one metric returned at one sync, in base units (cores, bytes, connections, jobs):
 * - `perPod`: Resource, ContainerResource and Pods metrics. A pod of the pod list that has `null`
 *   (or no entry) had no sample: a missing pod, which the HPA treats specially.
 * - `value`: an Object metric.
 * - `values`: an External metric: the selected series, which the HPA sums.
 * - `error`: the metrics API failed for this metric.
 */
export type MetricSample =
  | { perPod: Readonly<Record<string, number | null>>; timestamp?: number; windowSeconds?: number }
  | { value: number }
  | { values: readonly number[] }
  | { error: string };

/** HPA conditions this model reports (reasons of AbleToScale / ScalingActive / ScalingLimited). */
export type LimitReason = 'ScaleUpLimit' | 'ScaleDownLimit' | 'TooManyReplicas' | 'TooFewReplicas' | 'DesiredWithinRange';
export type StabilizationReason = 'ScaleUpStabilized' | 'ScaleDownStabilized';
