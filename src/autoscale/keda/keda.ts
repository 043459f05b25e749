// KEDA's part of scaling a ScaledObject, as pure functions over plain-data state:
// - the polling loop (every pollingInterval): read every trigger, decide whether the object is
//   active, and do what only KEDA does: 0 → max(min, 1) on activation, back to 0 (or the idle
//   count) once no trigger was active for cooldownPeriod, and up to the minimum when below it;
// - the metrics it serves the HPA on each HPA sync (each trigger as an External metric, or one
//   composite metric from scalingModifiers), with the fallback replacing a failing trigger's
//   value after failureThreshold consecutive failures.
// Between 1 and N replicas the HPA decides (hpa/), on the spec `hpaForScaledObject` gives.
//
// Both loops query the scalers, and every failed query counts toward the fallback threshold (in
// KEDA the HPA's metric requests go to the scaler too unless useCachedMetrics is set, in which case
// they reuse the last poll's reading — and still count its failure).
import type { HpaSpec, MetricSample, MetricSpec } from '../hpa/types.ts';
import { COMPOSITE_METRIC, type KedaTrigger, type ScaledObjectSpec } from './scaledobject.ts';
import { evaluateFormula } from './formula.ts';
import { readPrometheusAnswer, type ScalerReading } from './prometheus-scaler.ts';
import { kedaMilli } from '../quantity.ts';

/**
 * One trigger at one sync: a Prometheus instant-query answer (the JSON body of /api/v1/query), a
 * failed query, or per-pod values for a cpu/memory trigger.
 */
export type TriggerSample =
  | { prometheus: unknown }
  | { error: string }
  | { perPod: Readonly<Record<string, number | null>>; timestamp?: number; windowSeconds?: number };

export interface TriggerHealth {
  failures: number;
  status: 'Happy' | 'Failing';
}

export interface KedaState {
  /** When the ScaledObject appeared (the first sync): initialCooldownPeriod counts from here. */
  createdAt: number | null;
  lastActiveTime: number | null;
  lastPollAt: number | null;
  /** status.health, by metric name. */
  health: Record<string, TriggerHealth>;
  /** The last poll's reading per metric name (served to the HPA when useCachedMetrics is set). */
  cache: Record<string, ScalerReading>;
}

export function emptyKedaState(): KedaState {
  return { createdAt: null, lastActiveTime: null, lastPollAt: null, health: {}, cache: {} };
}

export interface KedaContext {
  now: number;
  /** Replicas the target is asked to run. */
  specReplicas: number;
  /** Running and Ready pods (a Value-type fallback divides by it). */
  readyPods: number;
}

export type KedaAction =
  | 'activated'
  | 'deactivated'
  | 'cooldown'
  | 'min-correction'
  | 'active'
  | 'inactive'
  | 'partial-error'
  | 'fallback-pending'
  | 'trigger-error';

export interface TriggerOutcome {
  key: string;
  /** The value read (base units), or null on error. */
  value: number | null;
  active: boolean;
  /** The value handed on is the fallback's. */
  fallback: boolean;
  error: string | null;
}

export interface KedaPollResult {
  state: KedaState;
  active: boolean;
  /** Some trigger failed (and its failure was not covered by the fallback). */
  error: string | null;
  fallbackActive: boolean;
  triggers: TriggerOutcome[];
  /** The composite metric (scalingModifiers), base units. */
  composite: number | null;
  action: KedaAction;
  /** The replica count KEDA set itself, or null when it left scaling to the HPA. */
  desired: number | null;
}

// ── reading triggers ─────────────────────────────────────────────────────────

function readTrigger(trigger: KedaTrigger, sample: TriggerSample | undefined): ScalerReading {
  if (sample === undefined) return { ok: false, error: `no sample for trigger ${trigger.key}` };
  if ('error' in sample) return { ok: false, error: sample.error };
  if (!('prometheus' in sample) || trigger.prometheus === null) return { ok: false, error: `trigger ${trigger.key} needs a Prometheus answer` };
  return readPrometheusAnswer(trigger.prometheus, sample.prometheus);
}

/** fallback.replicas × target as a metric is only possible with a valid fallback (KEDA's HasValidFallback). */
function hasValidFallback(so: ScaledObjectSpec): boolean {
  if (so.fallback === null) return false;
  // With modifiers KEDA parses the target with ParseInt here: "2.5" makes the fallback invalid.
  if (so.scalingModifiers !== null) return /^[+-]?\d+$/.test(so.scalingModifiers.targetText) && Number(so.scalingModifiers.targetText) > 0;
  return true;
}

type Processed =
  | { kind: 'metric'; milli: number; active: boolean; fallbackActive: boolean }
  | { kind: 'placeholder' }
  | { kind: 'error'; error: string };

function fallbackReplicas(so: ScaledObjectSpec, current: number): number {
  const fb = so.fallback!;
  switch (fb.behavior) {
    case 'currentReplicas':
      return current;
    case 'currentReplicasIfHigher':
      return Math.max(current, fb.replicas);
    case 'currentReplicasIfLower':
      return Math.min(current, fb.replicas);
    default:
      return fb.replicas;
  }
}

/** GetMetricsWithFallback: counts failures, and past the threshold replaces the metric. */
function processWithFallback(so: ScaledObjectSpec, trigger: KedaTrigger, reading: ScalerReading, health: Record<string, TriggerHealth>, ctx: KedaContext): Processed {
  const valid = hasValidFallback(so);
  if (reading.ok) {
    if (valid) health[trigger.metricName] = { failures: 0, status: 'Happy' };
    return { kind: 'metric', milli: reading.metricMilli, active: reading.active, fallbackActive: false };
  }
  if (!valid) return { kind: 'error', error: reading.error };
  const failures = (health[trigger.metricName]?.failures ?? 0) + 1;
  health[trigger.metricName] = { failures, status: 'Failing' };
  const fb = so.fallback!;
  if (failures <= fb.failureThreshold) return { kind: 'error', error: reading.error };
  if (fb.behavior === 'scalingModifiers') return { kind: 'placeholder' };

  let replicas = fallbackReplicas(so, ctx.specReplicas);
  const valueType = so.scalingModifiers !== null ? so.scalingModifiers.metricType === 'Value' : trigger.metricType === 'Value';
  if (valueType) {
    // A Value target is multiplied by the ready pods in the HPA, so the fallback divides by them.
    if (ctx.readyPods === 0) return { kind: 'error', error: 'error performing fallback: no ready replicas for a Value-type fallback' };
    replicas /= ctx.readyPods;
  }
  const target = so.scalingModifiers !== null ? so.scalingModifiers.target : kedaMilli(trigger.prometheus?.threshold ?? 0) / 1000;
  return { kind: 'metric', milli: Math.trunc(target * 1000 * replicas), active: false, fallbackActive: true };
}

/** The formula's view of the triggers: value by trigger name; nil for one past its fallback threshold. */
function formulaValues(so: ScaledObjectSpec, processed: ReadonlyMap<KedaTrigger, Processed>, health: Record<string, TriggerHealth>): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  for (const [trigger, p] of processed) {
    if (trigger.name === null) continue;
    const failures = health[trigger.metricName]?.failures ?? 0;
    const nil = so.fallback?.behavior === 'scalingModifiers' && failures > so.fallback.failureThreshold;
    values[trigger.name] = nil || p.kind !== 'metric' ? null : p.milli / 1000;
  }
  return values;
}

type Composite = { value: number } | { error: string };

/** HandleScalingModifiers: the composite metric, from the fallback when one is active, else the formula. */
function composite(so: ScaledObjectSpec, processed: ReadonlyMap<KedaTrigger, Processed>, health: Record<string, TriggerHealth>): Composite {
  const sm = so.scalingModifiers!;
  for (const p of processed.values()) if (p.kind === 'metric' && p.fallbackActive) return { value: p.milli / 1000 };
  let out: number | null;
  try {
    out = evaluateFormula(sm.formula, formulaValues(so, processed, health));
  } catch (err) {
    return { error: `error trying to run custom formula: ${(err as Error).message}` };
  }
  if (out === null) {
    if (so.fallback === null) return { error: 'scalingModifiers formula evaluated to nil but no fallback is configured' };
    out = so.fallback.replicas * sm.target;
  }
  return { value: Math.trunc(out * 1000) / 1000 };
}

function externalTriggers(so: ScaledObjectSpec): KedaTrigger[] {
  return so.triggers.filter((t) => t.resource === null);
}

// ── the polling loop ─────────────────────────────────────────────────────────

export function kedaPoll(so: ScaledObjectSpec, previous: KedaState, samples: Readonly<Record<string, TriggerSample>>, ctx: KedaContext): KedaPollResult {
  const health = { ...previous.health };
  const cache = { ...previous.cache };
  const processed = new Map<KedaTrigger, Processed>();
  const triggers: TriggerOutcome[] = [];
  let active = false;
  let error: string | null = null;
  let fallbackActive = false;

  for (const trigger of externalTriggers(so)) {
    const reading = readTrigger(trigger, samples[trigger.key]);
    cache[trigger.metricName] = reading;
    const p = processWithFallback(so, trigger, reading, health, ctx);
    processed.set(trigger, p);
    if (p.kind === 'error') {
      error ??= `${trigger.key}: ${p.error}`;
      triggers.push({ key: trigger.key, value: null, active: false, fallback: false, error: p.error });
      continue;
    }
    const isActive = p.kind === 'metric' && (p.active || p.fallbackActive);
    if (p.kind === 'metric' && p.fallbackActive) fallbackActive = true;
    if (isActive) active = true;
    triggers.push({
      key: trigger.key,
      value: reading.ok ? reading.value : null,
      active: isActive,
      fallback: p.kind === 'placeholder' || (p.kind === 'metric' && p.fallbackActive),
      error: reading.ok ? null : reading.error,
    });
  }

  let compositeValue: number | null = null;
  if (so.scalingModifiers !== null) {
    // With a formula only the composite metric decides activity, and only without errors.
    active = false;
    if (error === null) {
      const c = composite(so, processed, health);
      if ('value' in c) {
        compositeValue = c.value;
        active = c.value > so.scalingModifiers.activationTarget;
      }
    }
  }
  // cpu/memory triggers alone cannot tell activity: such an object is always active.
  if (externalTriggers(so).length === 0 && error === null) active = true;

  const state: KedaState = { ...previous, createdAt: previous.createdAt ?? ctx.now, lastPollAt: ctx.now, health, cache };
  const decided = execute(so, state, active, error !== null, ctx);
  return { state: decided.state, active, error, fallbackActive, triggers, composite: compositeValue, action: decided.action, desired: decided.desired };
}

/** RequestScale: what KEDA itself does with the replica count. */
function execute(so: ScaledObjectSpec, state: KedaState, active: boolean, isError: boolean, ctx: KedaContext): { state: KedaState; action: KedaAction; desired: number | null } {
  const current = ctx.specReplicas;
  const min = so.minReplicaCount;
  const idle = so.idleReplicaCount;
  if (active) {
    if ((idle !== null && current < min) || current === 0) {
      return { state: { ...state, lastActiveTime: ctx.now }, action: 'activated', desired: Math.max(min, 1) };
    }
    if (isError) return { state, action: 'partial-error', desired: null };
    return { state: { ...state, lastActiveTime: ctx.now }, action: 'active', desired: null };
  }
  if (isError && so.fallback !== null && so.fallback.replicas !== 0) return { state, action: 'fallback-pending', desired: null };
  if (isError && so.fallback === null) return { state, action: 'trigger-error', desired: null };
  if ((idle !== null && current > idle) || (current > 0 && min === 0)) {
    const created = state.createdAt ?? ctx.now;
    const cooled =
      state.lastActiveTime === null
        ? created + so.initialCooldownPeriodSeconds < ctx.now
        : state.lastActiveTime + so.cooldownPeriodSeconds < ctx.now;
    if (cooled) return { state, action: 'deactivated', desired: idle ?? min };
    return { state, action: 'cooldown', desired: null };
  }
  if (idle === null && current < min) return { state, action: 'min-correction', desired: min };
  return { state, action: 'inactive', desired: null };
}

// ── what the HPA gets ────────────────────────────────────────────────────────

/** The HPA KEDA creates for the ScaledObject. */
export function hpaForScaledObject(so: ScaledObjectSpec): HpaSpec {
  const resources: MetricSpec[] = [];
  const externals: MetricSpec[] = [];
  for (const t of so.triggers) {
    if (t.resource !== null) {
      const target = t.metricType === 'AverageValue' ? { type: 'AverageValue' as const, averageValue: t.resource.target } : { type: 'Utilization' as const, averageUtilization: t.resource.target };
      if (t.resource.container !== null) {
        resources.push({ type: 'ContainerResource', key: t.key, resource: t.resource.name, container: t.resource.container, target });
      } else {
        resources.push({ type: 'Resource', key: t.key, resource: t.resource.name, target });
      }
    } else if (so.scalingModifiers === null) {
      const milli = kedaMilli(t.prometheus?.threshold ?? 0);
      const target = t.metricType === 'Value' ? { type: 'Value' as const, value: milli } : { type: 'AverageValue' as const, averageValue: milli };
      externals.push({ type: 'External', key: t.key, metricName: t.metricName, target });
    }
  }
  if (so.scalingModifiers !== null) {
    const milli = Math.trunc(so.scalingModifiers.target * 1000);
    const target = so.scalingModifiers.metricType === 'Value' ? { type: 'Value' as const, value: milli } : { type: 'AverageValue' as const, averageValue: milli };
    externals.push({ type: 'External', key: COMPOSITE_METRIC, metricName: COMPOSITE_METRIC, target });
  }
  // KEDA sorts the metric specs by type name.
  const metrics = [...resources, ...externals].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return {
    name: so.hpaName,
    minReplicas: so.minReplicaCount > 0 ? so.minReplicaCount : 1,
    maxReplicas: so.maxReplicaCount,
    metrics,
    behavior: so.behavior,
  };
}

export interface KedaHpaSamples {
  state: KedaState;
  /** Samples for the HPA, keyed like the metrics of hpaForScaledObject. */
  samples: Record<string, MetricSample>;
}

/** GetScaledObjectMetrics for every metric of the HPA: query (or read the cache), fallback, formula. */
export function kedaHpaSamples(so: ScaledObjectSpec, previous: KedaState, input: Readonly<Record<string, TriggerSample>>, ctx: KedaContext): KedaHpaSamples {
  const health = { ...previous.health };
  const samples: Record<string, MetricSample> = {};
  const processed = new Map<KedaTrigger, Processed>();
  for (const trigger of so.triggers) {
    if (trigger.resource !== null) {
      const sample = input[trigger.key];
      samples[trigger.key] = sample === undefined ? { error: `no sample for trigger ${trigger.key}` } : 'perPod' in sample ? sample : { error: `trigger ${trigger.key} needs per-pod values` };
      continue;
    }
    const cached = trigger.useCachedMetrics ? previous.cache[trigger.metricName] : undefined;
    const reading = cached ?? readTrigger(trigger, input[trigger.key]);
    const p = processWithFallback(so, trigger, reading, health, ctx);
    processed.set(trigger, p);
    if (so.scalingModifiers === null) {
      samples[trigger.key] = p.kind === 'metric' ? { values: [p.milli / 1000] } : { error: p.kind === 'error' ? p.error : 'no value' };
    }
  }
  if (so.scalingModifiers !== null) {
    const all = [...processed.values()];
    const failed = all.find((p): p is Processed & { kind: 'error' } => p.kind === 'error');
    const fallbackActive = all.some((p) => p.kind === 'metric' && p.fallbackActive);
    if (failed !== undefined && !fallbackActive) {
      samples[COMPOSITE_METRIC] = { error: `metric:${COMPOSITE_METRIC} encountered error: ${failed.error}` };
    } else {
      const c = composite(so, processed, health);
      samples[COMPOSITE_METRIC] = 'value' in c ? { values: [c.value] } : { error: c.error };
    }
  }
  return { state: { ...previous, health }, samples };
}
