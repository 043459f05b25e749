// One HPA sync (reconcileAutoscaler in horizontal.go): the pre-checks that skip metric evaluation,
// the metrics' proposal, and normalization. Pure: state in, state out. Recording the rescale as a
// scale event is left to the caller, which may still hold the change back (guardrails) and must
// record what really happened.
import { computeReplicasForMetrics, type MetricOutcome } from './metrics.ts';
import {
  clampLegacy,
  rateLimitWithBehavior,
  seedRecommendations,
  stabilizeLegacy,
  stabilizeWithBehavior,
  type NormalizationState,
} from './normalize.ts';
import type { HpaControllerOptions, HpaSpec, LimitReason, MetricSample, PodInfo, StabilizationReason, Tolerances } from './types.ts';

export interface HpaSyncInput {
  now: number;
  specReplicas: number;
  statusReplicas: number;
  readyPods: number;
  pods: readonly PodInfo[];
  samples: Readonly<Record<string, MetricSample>>;
}

/** Why the sync did not evaluate metrics. */
export type Precheck = 'ScalingDisabled' | 'AboveMaxReplicas' | 'BelowMinReplicas';

export interface HpaSyncResult {
  /** What the HPA sets the target to. */
  desired: number;
  precheck: Precheck | null;
  /** The metrics' proposal (largest over metrics), before stabilisation and limits. */
  recommendation: number | null;
  recommendedBy: string | null;
  /** After stabilisation, before rate limits and min/max. */
  stabilized: number | null;
  stabilization: StabilizationReason | null;
  limit: LimitReason | null;
  metrics: MetricOutcome[];
  /** Metric errors; when set and recommendation is null the HPA did not act. */
  error: string | null;
  state: NormalizationState;
}

export function tolerancesFor(spec: HpaSpec, options: HpaControllerOptions): Tolerances {
  return {
    scaleUp: spec.behavior?.scaleUp.tolerance ?? options.tolerance,
    scaleDown: spec.behavior?.scaleDown.tolerance ?? options.tolerance,
  };
}

export function hpaSync(spec: HpaSpec, previous: NormalizationState, input: HpaSyncInput, options: HpaControllerOptions): HpaSyncResult {
  const current = input.specReplicas;
  const state = seedRecommendations(previous, current, input.now);
  const base: HpaSyncResult = {
    desired: current,
    precheck: null,
    recommendation: null,
    recommendedBy: null,
    stabilized: null,
    stabilization: null,
    limit: null,
    metrics: [],
    error: null,
    state,
  };
  if (current === 0 && spec.minReplicas !== 0) return { ...base, desired: 0, precheck: 'ScalingDisabled' };
  if (current > spec.maxReplicas) return { ...base, desired: spec.maxReplicas, precheck: 'AboveMaxReplicas' };
  if (current < spec.minReplicas) return { ...base, desired: spec.minReplicas, precheck: 'BelowMinReplicas' };

  const computed = computeReplicasForMetrics(spec.metrics, input.samples, {
    now: input.now,
    specReplicas: current,
    statusReplicas: input.statusReplicas,
    readyPods: input.readyPods,
    pods: input.pods,
    tolerances: tolerancesFor(spec, options),
    options,
  });
  if (computed.replicas === null) return { ...base, metrics: computed.outcomes, error: computed.error };
  const recommendation = Math.max(0, computed.replicas);
  const common = { ...base, recommendation, recommendedBy: computed.metric, metrics: computed.outcomes, error: computed.error };
  const recommendations = state.recommendations ?? [];

  if (spec.behavior === null) {
    const stabilized = stabilizeLegacy(recommendations, recommendation, input.now, options.downscaleStabilizationSeconds);
    const clamped = clampLegacy(current, stabilized.stabilized, spec.minReplicas, spec.maxReplicas);
    return {
      ...common,
      desired: clamped.replicas,
      stabilized: stabilized.stabilized,
      stabilization: stabilized.stabilized !== recommendation ? 'ScaleDownStabilized' : null,
      limit: clamped.limit,
      state: { ...state, recommendations: stabilized.recommendations },
    };
  }

  const { scaleUp, scaleDown } = spec.behavior;
  const stabilized = stabilizeWithBehavior({
    recommendations,
    current,
    desired: recommendation,
    now: input.now,
    upWindowSeconds: scaleUp.stabilizationWindowSeconds ?? 0,
    downWindowSeconds: scaleDown.stabilizationWindowSeconds ?? options.downscaleStabilizationSeconds,
  });
  const limited = rateLimitWithBehavior({
    current,
    desired: stabilized.stabilized,
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas,
    scaleUp,
    scaleDown,
    scaleUpEvents: state.scaleUpEvents,
    scaleDownEvents: state.scaleDownEvents,
    now: input.now,
  });
  return {
    ...common,
    desired: limited.replicas,
    stabilized: stabilized.stabilized,
    stabilization: stabilized.reason,
    limit: limited.limit,
    state: { ...state, recommendations: stabilized.recommendations },
  };
}
