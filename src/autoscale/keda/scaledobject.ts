// A user's KEDA ScaledObject (keda.sh/v1alpha1), read unchanged from its YAML: the upstream schema
// (@kubernetes-models/keda), KEDA's admission rules that matter for scaling, and each trigger's
// metadata as its scaler parses it. Defaults are KEDA's: pollingInterval 30 s, cooldownPeriod
// 300 s, initialCooldownPeriod 0, minReplicaCount 0, maxReplicaCount 100, fallback behavior static,
// metric type AverageValue.
//
// Modelled triggers: `prometheus`, and `cpu`/`memory` (which KEDA hands to the HPA as Resource
// metrics). Another trigger type is refused by name rather than guessed at.
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { z } from 'zod';
import { compileExpr, ExprError, type CompiledExpr } from '../../expr/index.ts';
import { parseGoFloat } from '../../expr/values.ts';
import { BehaviorSchema, behaviorFromRaw } from '../hpa/spec.ts';
import type { Behavior } from '../hpa/types.ts';
import { checkUpstreamSchema, ManifestError, parseWith, readManifest } from '../manifest.ts';
import { quantityToMilli } from '../quantity.ts';
import { castFormulaResult } from './formula.ts';
import type { PrometheusTriggerConfig } from './prometheus-scaler.ts';

export const KEDA_DEFAULTS = Object.freeze({
  pollingIntervalSeconds: 30,
  cooldownPeriodSeconds: 300,
  initialCooldownPeriodSeconds: 0,
  minReplicaCount: 0,
  maxReplicaCount: 100,
});

/** The composite metric's name when scalingModifiers are used. */
export const COMPOSITE_METRIC = 'composite-metric';

export type FallbackBehavior = 'static' | 'currentReplicas' | 'currentReplicasIfHigher' | 'currentReplicasIfLower' | 'scalingModifiers';

export interface KedaTrigger {
  index: number;
  type: string;
  name: string | null;
  /** How a sync's samples name this trigger: its name, else its metric name. */
  key: string;
  /** The External metric KEDA exposes (`s0-prometheus`), or the resource for cpu/memory. */
  metricName: string;
  metricType: 'AverageValue' | 'Value' | 'Utilization';
  useCachedMetrics: boolean;
  prometheus: PrometheusTriggerConfig | null;
  resource: { name: 'cpu' | 'memory'; container: string | null; /** percent (Utilization) or milli (AverageValue) */ target: number } | null;
}

export interface ScalingModifiers {
  formula: CompiledExpr;
  target: number;
  /** The target as written: fallback insists it is a whole number (KEDA parses it with ParseInt there). */
  targetText: string;
  activationTarget: number;
  metricType: 'AverageValue' | 'Value';
}

export interface ScaledObjectSpec {
  name: string;
  pollingIntervalSeconds: number;
  cooldownPeriodSeconds: number;
  initialCooldownPeriodSeconds: number;
  /** 0 when unset (KEDA scales to zero); the HPA it creates gets max(1, this). */
  minReplicaCount: number;
  maxReplicaCount: number;
  idleReplicaCount: number | null;
  fallback: { failureThreshold: number; replicas: number; behavior: FallbackBehavior } | null;
  /** advanced.horizontalPodAutoscalerConfig.behavior, passed to the HPA with the API defaults. */
  behavior: Behavior | null;
  hpaName: string;
  scalingModifiers: ScalingModifiers | null;
  triggers: KedaTrigger[];
}

const TriggerSchema = z.strictObject({
  type: z.string().min(1),
  name: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.string()),
  authenticationRef: z.looseObject({ name: z.string() }).optional(),
  metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
  useCachedMetrics: z.boolean().optional(),
});

const Int = z.number().int();

const ScaledObjectSchema = z.looseObject({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: z.looseObject({ name: z.string().min(1).optional() }).optional(),
  spec: z.strictObject({
    scaleTargetRef: z.strictObject({ apiVersion: z.string().optional(), kind: z.string().optional(), name: z.string().min(1), envSourceContainerName: z.string().optional() }),
    pollingInterval: Int.min(1).optional(),
    initialCooldownPeriod: Int.min(0).optional(),
    cooldownPeriod: Int.min(0).optional(),
    idleReplicaCount: Int.min(0).optional(),
    minReplicaCount: Int.min(0).optional(),
    maxReplicaCount: Int.min(0).optional(),
    fallback: z
      .strictObject({
        failureThreshold: Int.min(0),
        replicas: Int.min(0),
        behavior: z.enum(['static', 'currentReplicas', 'currentReplicasIfHigher', 'currentReplicasIfLower', 'scalingModifiers']).optional(),
      })
      .optional(),
    advanced: z
      .strictObject({
        restoreToOriginalReplicaCount: z.boolean().optional(),
        horizontalPodAutoscalerConfig: z.strictObject({ name: z.string().optional(), behavior: BehaviorSchema.optional() }).optional(),
        scalingModifiers: z
          .strictObject({
            formula: z.string().optional(),
            target: z.string().optional(),
            activationTarget: z.string().optional(),
            metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
          })
          .optional(),
      })
      .optional(),
    triggers: z.array(TriggerSchema).min(1, 'no triggers defined in the ScaledObject'),
  }),
});

type RawScaledObject = z.infer<typeof ScaledObjectSchema>;
type RawTrigger = z.infer<typeof TriggerSchema>;

class Problems {
  readonly list: string[] = [];
  private readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
  add(path: string, message: string): void {
    this.list.push(`${this.source}: ${path}: ${message}`);
  }
}

function goBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function prometheusConfig(t: RawTrigger, path: string, problems: Problems): PrometheusTriggerConfig | null {
  const md = t.metadata;
  const at = (k: string) => `${path}.metadata.${k}`;
  let ok = true;
  for (const k of ['serverAddress', 'query', 'threshold']) {
    if (md[k] === undefined || md[k] === '') {
      problems.add(at(k), 'required by the prometheus scaler');
      ok = false;
    }
  }
  const threshold = md.threshold === undefined ? undefined : parseGoFloat(md.threshold);
  if (md.threshold !== undefined && threshold === undefined) {
    problems.add(at('threshold'), `expected a number, got ${JSON.stringify(md.threshold)}`);
    ok = false;
  } else if (threshold !== undefined && !(threshold > 0)) {
    // KEDA would pass it on, and the HPA would divide by a zero target.
    problems.add(at('threshold'), `must be greater than 0, got ${md.threshold}`);
    ok = false;
  }
  const activation = md.activationThreshold === undefined ? 0 : parseGoFloat(md.activationThreshold);
  if (activation === undefined) {
    problems.add(at('activationThreshold'), `expected a number, got ${JSON.stringify(md.activationThreshold)}`);
    ok = false;
  }
  const ignore = md.ignoreNullValues === undefined ? true : goBool(md.ignoreNullValues);
  if (ignore === undefined) {
    problems.add(at('ignoreNullValues'), `expected true or false, got ${JSON.stringify(md.ignoreNullValues)}`);
    ok = false;
  }
  if (!ok || threshold === undefined || activation === undefined || ignore === undefined) return null;
  return { serverAddress: md.serverAddress ?? '', query: md.query ?? '', threshold, activationThreshold: activation, ignoreNullValues: ignore };
}

function resourceConfig(t: RawTrigger, path: string, problems: Problems): KedaTrigger['resource'] {
  const md = t.metadata;
  const metricType = t.metricType ?? md.type;
  if (metricType !== 'Utilization' && metricType !== 'AverageValue') {
    problems.add(`${path}.metricType`, `the ${t.type} scaler needs metricType Utilization or AverageValue`);
    return null;
  }
  if (md.value === undefined) {
    problems.add(`${path}.metadata.value`, `required by the ${t.type} scaler`);
    return null;
  }
  let target: number | undefined;
  if (metricType === 'Utilization') {
    target = /^\d+$/.test(md.value) ? Number(md.value) : undefined;
    if (target === undefined) problems.add(`${path}.metadata.value`, `expected a whole percentage, got ${JSON.stringify(md.value)}`);
  } else {
    target = quantityToMilli(md.value);
    if (target === undefined) problems.add(`${path}.metadata.value`, `expected a quantity, got ${JSON.stringify(md.value)}`);
  }
  if (target === undefined) return null;
  return { name: t.type as 'cpu' | 'memory', container: md.containerName ?? null, target };
}

function toTrigger(t: RawTrigger, index: number, problems: Problems): KedaTrigger | null {
  const path = `spec.triggers[${index}]`;
  const isResource = t.type === 'cpu' || t.type === 'memory';
  if (t.metricType === 'Utilization' && !isResource) problems.add(`${path}.metricType`, 'Utilization is only for cpu and memory triggers');
  if (t.useCachedMetrics === true && isResource) problems.add(`${path}.useCachedMetrics`, `not supported for the ${t.type} scaler`);
  const metricName = isResource ? t.type : `s${index}-${t.type.toLowerCase()}`;
  const base = {
    index,
    type: t.type,
    name: t.name ?? null,
    key: t.name ?? metricName,
    metricName,
    useCachedMetrics: t.useCachedMetrics ?? false,
  };
  if (t.type === 'prometheus') {
    const prometheus = prometheusConfig(t, path, problems);
    return prometheus && { ...base, metricType: t.metricType === 'Value' ? 'Value' : 'AverageValue', prometheus, resource: null };
  }
  if (isResource) {
    const resource = resourceConfig(t, path, problems);
    const metricType = (t.metricType ?? t.metadata.type) === 'AverageValue' ? 'AverageValue' : 'Utilization';
    return resource && { ...base, metricType, prometheus: null, resource };
  }
  problems.add(`${path}.type`, `trigger type ${JSON.stringify(t.type)} is not modelled (prometheus, cpu and memory are)`);
  return null;
}

function toModifiers(raw: RawScaledObject, triggers: readonly KedaTrigger[], problems: Problems): ScalingModifiers | null {
  const sm = raw.spec.advanced?.scalingModifiers;
  if (sm === undefined || Object.values(sm).every((v) => v === undefined)) return null;
  const path = 'spec.advanced.scalingModifiers';
  if (sm.formula === undefined || sm.formula === '') {
    problems.add(`${path}.formula`, 'required when scalingModifiers are set');
    return null;
  }
  if (sm.target === undefined || sm.target === '') {
    problems.add(`${path}.target`, 'required when a formula is given');
    return null;
  }
  const target = parseGoFloat(sm.target);
  if (target === undefined || !(target > 0)) {
    problems.add(`${path}.target`, `expected a number greater than 0, got ${JSON.stringify(sm.target)}`);
    return null;
  }
  if (sm.metricType === 'Utilization') {
    problems.add(`${path}.metricType`, 'must be AverageValue or Value (the composite metric is an External metric)');
    return null;
  }
  const activationTarget = sm.activationTarget === undefined || sm.activationTarget === '' ? 0 : parseGoFloat(sm.activationTarget);
  if (activationTarget === undefined) {
    problems.add(`${path}.activationTarget`, `expected a number, got ${JSON.stringify(sm.activationTarget)}`);
    return null;
  }
  let formula: CompiledExpr;
  try {
    formula = compileExpr(sm.formula);
  } catch (err) {
    problems.add(`${path}.formula`, err instanceof ExprError ? err.message : String(err));
    return null;
  }
  // KEDA compiles the formula against the named, non-resource triggers and runs it once with -1s.
  const env: Record<string, number> = {};
  for (const t of triggers) if (t.name !== null && t.resource === null) env[t.name] = -1;
  const unknown = formula.identifiers.filter((id) => !Object.hasOwn(env, id));
  if (unknown.length > 0) {
    problems.add(`${path}.formula`, `names ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not the name of a (non-cpu/memory) trigger; named triggers: ${Object.keys(env).join(', ') || 'none'}`);
    return null;
  }
  try {
    castFormulaResult(formula, formula.evaluate(env));
  } catch (err) {
    problems.add(`${path}.formula`, err instanceof Error ? err.message : String(err));
    return null;
  }
  return { formula, target, targetText: sm.target, activationTarget, metricType: sm.metricType === 'Value' ? 'Value' : 'AverageValue' };
}

/**
 * The installed models predate KEDA 2.20's `fallback.behavior: scalingModifiers`; the upstream check
 * sees that one value as `static`, and our own schema below checks the enum as KEDA has it now.
 */
function forUpstreamSchema(raw: unknown): unknown {
  const fallback = (raw as { spec?: { fallback?: { behavior?: unknown } } } | null)?.spec?.fallback;
  if (fallback?.behavior !== 'scalingModifiers') return raw;
  const copy = structuredClone(raw) as { spec: { fallback: { behavior: string } } };
  copy.spec.fallback.behavior = 'static';
  return copy;
}

/** Validates a ScaledObject object (as parsed from YAML or JSON) and returns the defaulted model. */
export function scaledObjectFromObject(raw: unknown, source = 'ScaledObject'): ScaledObjectSpec {
  checkUpstreamSchema(source, () => new ScaledObject(forUpstreamSchema(raw) as never).validate());
  const so = parseWith(source, ScaledObjectSchema, raw);
  const problems = new Problems(source);
  const spec = so.spec;

  const names = new Set<string>();
  spec.triggers.forEach((t, i) => {
    if (t.name === undefined) return;
    if (names.has(t.name)) problems.add(`spec.triggers[${i}].name`, `trigger name ${JSON.stringify(t.name)} is used twice; names must be unique`);
    names.add(t.name);
  });
  const triggers = spec.triggers.map((t, i) => toTrigger(t, i, problems)).filter((t): t is KedaTrigger => t !== null);

  // KEDA compares against the HPA's minimum (at least 1) once a minimum is written.
  const hpaMin = spec.minReplicaCount !== undefined ? Math.max(1, spec.minReplicaCount) : 0;
  const max = spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount;
  if (hpaMin > max) problems.add('spec.minReplicaCount', `${hpaMin} must be less than maxReplicaCount (${max})`);
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount >= hpaMin) {
    problems.add('spec.idleReplicaCount', `${spec.idleReplicaCount} must be less than minReplicaCount (${hpaMin})`);
  }
  const onlyResources = spec.triggers.every((t) => t.type === 'cpu' || t.type === 'memory');
  if (onlyResources && (spec.minReplicaCount ?? 0) === 0) {
    problems.add('spec.minReplicaCount', 'only cpu/memory triggers and a minimum of 0: such a ScaledObject could never scale from zero');
  }

  const scalingModifiers = toModifiers(so, triggers, problems);
  if (spec.fallback !== undefined && scalingModifiers === null && onlyResources) {
    problems.add('spec.fallback', 'needs at least one trigger that is not cpu or memory');
  }
  if (spec.fallback?.behavior === 'scalingModifiers' && scalingModifiers === null) {
    problems.add('spec.fallback.behavior', 'scalingModifiers needs spec.advanced.scalingModifiers');
  }
  if (problems.list.length > 0) throw new ManifestError(source, problems.list);

  const name = so.metadata?.name ?? spec.scaleTargetRef.name;
  return {
    name,
    pollingIntervalSeconds: spec.pollingInterval ?? KEDA_DEFAULTS.pollingIntervalSeconds,
    cooldownPeriodSeconds: spec.cooldownPeriod ?? KEDA_DEFAULTS.cooldownPeriodSeconds,
    initialCooldownPeriodSeconds: spec.initialCooldownPeriod ?? KEDA_DEFAULTS.initialCooldownPeriodSeconds,
    minReplicaCount: spec.minReplicaCount ?? KEDA_DEFAULTS.minReplicaCount,
    maxReplicaCount: max,
    idleReplicaCount: spec.idleReplicaCount ?? null,
    fallback: spec.fallback ? { failureThreshold: spec.fallback.failureThreshold, replicas: spec.fallback.replicas, behavior: spec.fallback.behavior ?? 'static' } : null,
    behavior: behaviorFromRaw(spec.advanced?.horizontalPodAutoscalerConfig?.behavior),
    hpaName: spec.advanced?.horizontalPodAutoscalerConfig?.name ?? `keda-hpa-${name}`,
    scalingModifiers,
    triggers,
  };
}

/** Reads the ScaledObject document of a YAML text (a file may hold other documents too). */
export function parseScaledObjectYaml(text: string, source = 'ScaledObject'): ScaledObjectSpec {
  return scaledObjectFromObject(readManifest(text, source, 'ScaledObject'), source);
}
