// A user's autoscaling/v2 HorizontalPodAutoscaler, read unchanged from its YAML: checked against
// the upstream schema (kubernetes-models) and against the API server's validation rules that
// matter for the algorithm, then turned into the defaulted model the controller runs on.
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { z } from 'zod';
import { checkUpstreamSchema, parseWith, readManifest } from '../manifest.ts';
import { quantityToMilli } from '../quantity.ts';
import { DEFAULT_CPU_UTILIZATION, DEFAULT_MIN_REPLICAS, scaleDownRulesWithDefaults, scaleUpRulesWithDefaults } from './defaults.ts';
import type { Behavior, HpaSpec, MetricSpec, MetricTarget } from './types.ts';

const Quantity = z.union([z.string(), z.number()]).refine((q) => quantityToMilli(q) !== undefined, {
  message: 'expected a quantity such as "500m", "20" or "1.5k"',
});

const Selector = z.looseObject({});

const TargetSchema = z.strictObject({
  type: z.enum(['Utilization', 'Value', 'AverageValue']),
  averageUtilization: z.number().int().positive().optional(),
  value: Quantity.optional(),
  averageValue: Quantity.optional(),
});

const MetricIdentifier = z.strictObject({ name: z.string().min(1), selector: Selector.optional() });
const ObjectReference = z.strictObject({ apiVersion: z.string().optional(), kind: z.string().min(1), name: z.string().min(1) });

const MetricSchema = z.strictObject({
  type: z.enum(['Resource', 'ContainerResource', 'Pods', 'Object', 'External']),
  resource: z.strictObject({ name: z.string().min(1), target: TargetSchema }).optional(),
  containerResource: z.strictObject({ name: z.string().min(1), container: z.string().min(1), target: TargetSchema }).optional(),
  pods: z.strictObject({ metric: MetricIdentifier, target: TargetSchema }).optional(),
  object: z.strictObject({ describedObject: ObjectReference, metric: MetricIdentifier, target: TargetSchema }).optional(),
  external: z.strictObject({ metric: MetricIdentifier, target: TargetSchema }).optional(),
});

const PolicySchema = z.strictObject({
  type: z.enum(['Pods', 'Percent']),
  value: z.number().int().positive(),
  periodSeconds: z.number().int().min(1).max(1800),
});

const RulesSchema = z.strictObject({
  stabilizationWindowSeconds: z.number().int().min(0).max(3600).optional(),
  selectPolicy: z.enum(['Max', 'Min', 'Disabled']).optional(),
  policies: z.array(PolicySchema).min(1, 'must specify at least one policy').optional(),
  tolerance: Quantity.refine((q) => (quantityToMilli(q) ?? -1) >= 0, 'must be greater than or equal to 0').optional(),
});

export const BehaviorSchema = z.strictObject({ scaleUp: RulesSchema.optional(), scaleDown: RulesSchema.optional() });

const HpaSchema = z.looseObject({
  apiVersion: z.literal('autoscaling/v2'),
  kind: z.literal('HorizontalPodAutoscaler'),
  metadata: z.looseObject({ name: z.string().min(1).optional() }).optional(),
  spec: z
    .strictObject({
      scaleTargetRef: ObjectReference,
      minReplicas: z.number().int().min(1, 'must be at least 1 (0 needs the HPAScaleToZero feature gate)').optional(),
      maxReplicas: z.number().int().min(1),
      metrics: z.array(MetricSchema).optional(),
      behavior: BehaviorSchema.optional(),
    })
    .superRefine((spec, ctx) => {
      const min = spec.minReplicas ?? DEFAULT_MIN_REPLICAS;
      if (spec.maxReplicas < min) ctx.addIssue({ code: 'custom', path: ['maxReplicas'], message: `must be greater than or equal to minReplicas (${min})` });
      (spec.metrics ?? []).forEach((metric, i) => checkMetric(metric, ['metrics', i], ctx));
    }),
});

type RawMetric = z.infer<typeof MetricSchema>;
type RawTarget = z.infer<typeof TargetSchema>;

const SOURCE_FIELD = { Resource: 'resource', ContainerResource: 'containerResource', Pods: 'pods', Object: 'object', External: 'external' } as const;

/** The API server's rules: the source named by `type` is set and no other; targets fit the source. */
function checkMetric(metric: RawMetric, path: (string | number)[], ctx: z.RefinementCtx): void {
  const field = SOURCE_FIELD[metric.type];
  for (const other of Object.values(SOURCE_FIELD)) {
    if (other !== field && metric[other] !== undefined) ctx.addIssue({ code: 'custom', path: [...path, other], message: `must not be set for a metric of type ${metric.type}` });
  }
  const source = metric[field];
  if (source === undefined) {
    ctx.addIssue({ code: 'custom', path: [...path, field], message: `required for a metric of type ${metric.type}` });
    return;
  }
  const allowed: Record<RawMetric['type'], readonly RawTarget['type'][]> = {
    Resource: ['Utilization', 'AverageValue'],
    ContainerResource: ['Utilization', 'AverageValue'],
    Pods: ['AverageValue'],
    Object: ['Value', 'AverageValue'],
    External: ['Value', 'AverageValue'],
  };
  const target = source.target;
  const targetPath = [...path, field, 'target'];
  if (!allowed[metric.type].includes(target.type)) {
    ctx.addIssue({ code: 'custom', path: [...targetPath, 'type'], message: `must be ${allowed[metric.type].join(' or ')} for a metric of type ${metric.type}` });
    return;
  }
  const needed = target.type === 'Utilization' ? 'averageUtilization' : target.type === 'Value' ? 'value' : 'averageValue';
  const given = target[needed];
  if (given === undefined) {
    ctx.addIssue({ code: 'custom', path: [...targetPath, needed], message: `required for a ${target.type} target` });
  } else if (needed !== 'averageUtilization' && (quantityToMilli(given) ?? 0) <= 0) {
    ctx.addIssue({ code: 'custom', path: [...targetPath, needed], message: 'must be positive' });
  }
}

function toTarget(raw: RawTarget): MetricTarget {
  const target: MetricTarget = { type: raw.type };
  if (raw.type === 'Utilization' && raw.averageUtilization !== undefined) target.averageUtilization = raw.averageUtilization;
  if (raw.type === 'Value' && raw.value !== undefined) target.value = quantityToMilli(raw.value);
  if (raw.type === 'AverageValue' && raw.averageValue !== undefined) target.averageValue = quantityToMilli(raw.averageValue);
  return target;
}

/** Keys a sync's samples use; a repeated key gets "#2", "#3"… */
function toMetric(raw: RawMetric, taken: Set<string>): MetricSpec {
  const unique = (key: string): string => {
    let k = key;
    for (let n = 2; taken.has(k); n++) k = `${key}#${n}`;
    taken.add(k);
    return k;
  };
  // checkMetric guarantees the source of `type` is present.
  switch (raw.type) {
    case 'Resource': {
      const s = raw.resource!;
      return { type: 'Resource', key: unique(`resource/${s.name}`), resource: s.name, target: toTarget(s.target) };
    }
    case 'ContainerResource': {
      const s = raw.containerResource!;
      return { type: 'ContainerResource', key: unique(`container-resource/${s.container}/${s.name}`), resource: s.name, container: s.container, target: toTarget(s.target) };
    }
    case 'Pods': {
      const s = raw.pods!;
      return { type: 'Pods', key: unique(`pods/${s.metric.name}`), metricName: s.metric.name, target: toTarget(s.target) };
    }
    case 'Object': {
      const s = raw.object!;
      const key = `object/${s.describedObject.kind}/${s.describedObject.name}/${s.metric.name}`;
      return { type: 'Object', key: unique(key), metricName: s.metric.name, describedObject: { kind: s.describedObject.kind, name: s.describedObject.name }, target: toTarget(s.target) };
    }
    case 'External': {
      const s = raw.external!;
      return { type: 'External', key: unique(`external/${s.metric.name}`), metricName: s.metric.name, target: toTarget(s.target) };
    }
  }
}

type RawRules = z.infer<typeof RulesSchema>;

function toPartialRules(raw: RawRules | undefined) {
  if (raw === undefined) return undefined;
  const tolerance = raw.tolerance === undefined ? undefined : (quantityToMilli(raw.tolerance) ?? 0) / 1000;
  return { ...raw, tolerance };
}

/** The behavior block with the API server's defaults, or null when the user wrote none. */
export function behaviorFromRaw(raw: { scaleUp?: RawRules; scaleDown?: RawRules } | undefined): Behavior | null {
  if (raw === undefined) return null;
  return { scaleUp: scaleUpRulesWithDefaults(toPartialRules(raw.scaleUp)), scaleDown: scaleDownRulesWithDefaults(toPartialRules(raw.scaleDown)) };
}

/** Validates an HPA object (as parsed from YAML or JSON) and returns the defaulted model. */
export function hpaFromObject(raw: unknown, source = 'HorizontalPodAutoscaler'): HpaSpec {
  checkUpstreamSchema(source, () => new HorizontalPodAutoscaler(raw as never).validate());
  const hpa = parseWith(source, HpaSchema, raw);
  const taken = new Set<string>();
  const metrics = (hpa.spec.metrics ?? []).map((m) => toMetric(m, taken));
  if (metrics.length === 0) {
    metrics.push({ type: 'Resource', key: 'resource/cpu', resource: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } });
  }
  return {
    name: hpa.metadata?.name ?? hpa.spec.scaleTargetRef.name,
    minReplicas: hpa.spec.minReplicas ?? DEFAULT_MIN_REPLICAS,
    maxReplicas: hpa.spec.maxReplicas,
    metrics,
    behavior: behaviorFromRaw(hpa.spec.behavior),
  };
}

/** Reads the HorizontalPodAutoscaler document of a YAML text (a file may hold other documents too). */
export function parseHpaYaml(text: string, source = 'HorizontalPodAutoscaler'): HpaSpec {
  return hpaFromObject(readManifest(text, source, 'HorizontalPodAutoscaler'), source);
}
