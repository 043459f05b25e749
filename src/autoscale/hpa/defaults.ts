// Defaults of the HPA: the kube-controller-manager flags, and what the API server fills in
// (SetDefaults_HorizontalPodAutoscaler, GenerateHPAScaleUp/DownRules). A behavior block is
// defaulted only when the user wrote one; without it the controller takes the legacy path.
import type { HpaControllerOptions, ScalingPolicy, ScalingRules, SelectPolicy } from './types.ts';

export const CONTROLLER_DEFAULTS: Readonly<HpaControllerOptions> = Object.freeze({
  syncPeriodSeconds: 15,
  tolerance: 0.1,
  downscaleStabilizationSeconds: 300,
  cpuInitializationPeriodSeconds: 300,
  initialReadinessDelaySeconds: 30,
});

export const DEFAULT_MIN_REPLICAS = 1;
/** With no metrics listed, the API server adds CPU at 80 % utilisation. */
export const DEFAULT_CPU_UTILIZATION = 80;

/** Legacy path (no behavior): scale-up is limited to max(2 × current, 4) per sync. */
export const LEGACY_SCALE_UP_FACTOR = 2;
export const LEGACY_SCALE_UP_MINIMUM = 4;

/** A direction's rules as written by the user: any field may be absent. */
export interface PartialRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: SelectPolicy;
  policies?: ScalingPolicy[];
  tolerance?: number;
}

export function scaleUpRulesWithDefaults(rules: PartialRules | undefined): ScalingRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? 0,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
    tolerance: rules?.tolerance ?? null,
  };
}

/** The scale-down window stays null when unset: the controller fills it from its downscale flag. */
export function scaleDownRulesWithDefaults(rules: PartialRules | undefined): ScalingRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? null,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    tolerance: rules?.tolerance ?? null,
  };
}
