// A user's Argo Rollouts AnalysisTemplate / ClusterAnalysisTemplate, read unchanged: the YAML a
// team already applies to its cluster drives ClawStorm's canary analysis. Only what can run here
// is accepted — the prometheus provider — and everything else is refused by name (exit 2), never
// skipped: a template whose web or datadog metric silently vanished would pass on less evidence
// than its author wrote.
//
// Argo's own validation carries over (count ≥ failureLimit + consecutiveSuccessLimit, count > 1
// needs an interval, …: src/score/track.ts), and so does its argument resolution: `{{args.x}}`
// is replaced in every string of a metric before it is used, an argument without a value and
// without one supplied is an error, and secret or field references cannot be resolved outside a
// cluster (they must be supplied).
import fs from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { compileExpr, ExprError, type CompiledExpr } from '../expr/index.ts';
import { parseDuration } from '../util/duration.ts';
import { validateTrackSpec, TrackSpecError, type TrackSpec } from '../score/track.ts';

export class AnalysisTemplateError extends Error {
  readonly exitCode = 2;
}

const PROVIDERS = ['prometheus', 'kayenta', 'web', 'datadog', 'newRelic', 'job', 'cloudWatch', 'graphite', 'influxdb', 'skywalking', 'plugin', 'wavefront'] as const;

/** Argo's intstr: a number, or a string holding one (after argument substitution). */
const IntOrString = z.union([z.number().int(), z.string().min(1)]);

const PrometheusProviderSchema = z.looseObject({
  address: z.string().optional(),
  query: z.string().min(1),
  timeout: z.number().int().positive().optional(),
  rangeQuery: z.looseObject({ start: z.string(), end: z.string(), step: z.string() }).optional(),
});

const MetricSchema = z.looseObject({
  name: z.string().min(1),
  interval: z.string().optional(),
  initialDelay: z.string().optional(),
  count: IntOrString.optional(),
  successCondition: z.string().optional(),
  failureCondition: z.string().optional(),
  failureLimit: IntOrString.optional(),
  inconclusiveLimit: IntOrString.optional(),
  consecutiveErrorLimit: IntOrString.optional(),
  consecutiveSuccessLimit: IntOrString.optional(),
  provider: z.record(z.string(), z.unknown()),
});

const ArgSchema = z.looseObject({
  name: z.string().min(1),
  value: z.string().optional(),
  valueFrom: z.looseObject({}).optional(),
});

export const AnalysisTemplateSchema = z.looseObject({
  apiVersion: z.string().regex(/^argoproj\.io\/v1alpha1$/, 'expected argoproj.io/v1alpha1'),
  kind: z.enum(['AnalysisTemplate', 'ClusterAnalysisTemplate']),
  metadata: z.looseObject({ name: z.string().min(1) }),
  spec: z.looseObject({
    args: z.array(ArgSchema).optional(),
    metrics: z.array(MetricSchema).min(1),
    dryRun: z.array(z.looseObject({ metricName: z.string().min(1) })).optional(),
    measurementRetention: z.array(z.looseObject({ metricName: z.string(), limit: z.number().int() })).optional(),
    templates: z.array(z.unknown()).optional(),
  }),
});
export type AnalysisTemplateDoc = z.output<typeof AnalysisTemplateSchema>;

/** One metric, arguments resolved, ready to measure. */
export interface AnalysisMetric {
  name: string;
  track: TrackSpec;
  query: string;
  successCondition: CompiledExpr | undefined;
  failureCondition: CompiledExpr | undefined;
}

export interface AnalysisTemplate {
  name: string;
  kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate';
  /** Where it came from (a file, or `built-in`). */
  source: string;
  metrics: AnalysisMetric[];
  /** Argument values used (for the report; secrets never reach here: valueFrom must be supplied). */
  args: Record<string, string>;
}

const ARG = /\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g;

/** `{{args.name}}` → its value everywhere in `text`; an unknown argument is an error. */
export function substituteArgs(text: string, args: Readonly<Record<string, string>>, where: string): string {
  return text.replace(ARG, (_m, name: string) => {
    const v = args[name];
    if (v === undefined) throw new AnalysisTemplateError(`${where}: {{args.${name}}} has no value (declare it under spec.args or pass --arg ${name}=…)`);
    return v;
  });
}

function resolveArgs(doc: AnalysisTemplateDoc, supplied: Readonly<Record<string, string>>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of doc.spec.args ?? []) {
    const v = supplied[a.name] ?? a.value;
    if (v === undefined) {
      const from = a.valueFrom === undefined ? '' : ` (its valueFrom ${Object.keys(a.valueFrom).join(', ')} is resolved by a cluster, not here)`;
      throw new AnalysisTemplateError(`${where}: spec.args ${a.name}: no value${from}; pass --arg ${a.name}=…`);
    }
    out[a.name] = v;
  }
  // Supplied values the template did not declare are still usable by the built-in template's
  // callers, but a user template only sees what it declares (as in Argo).
  return out;
}

function intOf(v: number | string | undefined, field: string, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (!/^-?\d+$/.test(v.trim())) throw new AnalysisTemplateError(`${where}: ${field}: ${JSON.stringify(v)} is not an integer`);
  return Number(v.trim());
}

function durationOf(v: string | undefined, field: string, where: string): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new AnalysisTemplateError(`${where}: ${field}: ${(err as Error).message}`);
  }
}

function compile(source: string | undefined, field: string, where: string): CompiledExpr | undefined {
  if (source === undefined || source.trim() === '') return undefined;
  try {
    return compileExpr(source);
  } catch (err) {
    if (err instanceof ExprError) throw new AnalysisTemplateError(`${where}: ${field}: ${err.message}`);
    throw err;
  }
}

export interface CompileOptions {
  /** Values for `spec.args` (override the template's own `value`). */
  args?: Readonly<Record<string, string>>;
  /** Where the document came from, for messages. */
  source?: string;
}

/** A parsed template document → metrics ready to run. Throws AnalysisTemplateError (exit 2). */
export function compileTemplate(raw: unknown, opts: CompileOptions = {}): AnalysisTemplate {
  const where0 = opts.source ?? 'analysis template';
  const parsed = AnalysisTemplateSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AnalysisTemplateError(parsed.error.issues.map((i) => `${where0}: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('\n'));
  }
  const doc = parsed.data;
  const where = `${where0} (${doc.kind} ${doc.metadata.name})`;
  if (doc.spec.templates !== undefined && doc.spec.templates.length > 0) {
    throw new AnalysisTemplateError(`${where}: spec.templates (composed templates) is not supported: pass each template file with --analysis`);
  }
  const args = resolveArgs(doc, opts.args ?? {}, where);
  const dryRun = (doc.spec.dryRun ?? []).map((d) => {
    try {
      // Argo matches metricName as a regular expression over the whole name.
      return new RegExp(`^(?:${d.metricName})$`);
    } catch {
      throw new AnalysisTemplateError(`${where}: spec.dryRun metricName ${JSON.stringify(d.metricName)} is not a valid regular expression`);
    }
  });
  const seen = new Set<string>();
  const metrics = doc.spec.metrics.map((m, i): AnalysisMetric => {
    const mw = `${where}: spec.metrics[${i}] ${m.name}`;
    if (seen.has(m.name)) throw new AnalysisTemplateError(`${mw}: metric name appears twice`);
    seen.add(m.name);
    const providers = Object.keys(m.provider);
    if (providers.length !== 1) throw new AnalysisTemplateError(`${mw}: provider: expected exactly one provider, got ${providers.length === 0 ? 'none' : providers.join(', ')}`);
    const kind = providers[0]!;
    if (kind !== 'prometheus') {
      const known = (PROVIDERS as readonly string[]).includes(kind);
      throw new AnalysisTemplateError(`${mw}: provider ${kind}${known ? '' : ' (not an Argo Rollouts provider)'} is not supported: ClawStorm runs prometheus metrics only`);
    }
    // Substitute in the raw metric (every string field), then validate what results.
    const sub = (s: string | undefined, field: string) => (s === undefined ? undefined : substituteArgs(s, args, `${mw}: ${field}`));
    const provRaw = JSON.parse(substituteArgs(JSON.stringify(m.provider.prometheus ?? {}), args, `${mw}: provider.prometheus`)) as unknown;
    const prov = PrometheusProviderSchema.safeParse(provRaw);
    if (!prov.success) throw new AnalysisTemplateError(prov.error.issues.map((x) => `${mw}: provider.prometheus.${x.path.map(String).join('.')}: ${x.message}`).join('\n'));
    if (prov.data.rangeQuery !== undefined) throw new AnalysisTemplateError(`${mw}: provider.prometheus.rangeQuery is not supported (instant queries only)`);
    const subInt = (v: number | string | undefined, field: string) => intOf(typeof v === 'string' ? sub(v, field) : v, field, mw);
    const track: TrackSpec = {
      name: m.name,
      intervalMs: durationOf(sub(m.interval, 'interval'), 'interval', mw),
      initialDelayMs: durationOf(sub(m.initialDelay, 'initialDelay'), 'initialDelay', mw),
      count: subInt(m.count, 'count'),
      failureLimit: subInt(m.failureLimit, 'failureLimit'),
      inconclusiveLimit: subInt(m.inconclusiveLimit, 'inconclusiveLimit'),
      consecutiveErrorLimit: subInt(m.consecutiveErrorLimit, 'consecutiveErrorLimit'),
      consecutiveSuccessLimit: subInt(m.consecutiveSuccessLimit, 'consecutiveSuccessLimit'),
      dryRun: dryRun.some((re) => re.test(m.name)),
      // Argo retries an Error measurement after 10 s whatever the interval; never later than the
      // interval itself (a 5 s smoke interval keeps its pace).
      errorRetryMs: Math.min(10_000, durationOf(sub(m.interval, 'interval'), 'interval', mw) ?? 10_000),
    };
    try {
      validateTrackSpec(track);
    } catch (err) {
      if (err instanceof TrackSpecError) throw new AnalysisTemplateError(`${mw}: ${err.message}`);
      throw err;
    }
    return {
      name: m.name,
      track,
      query: prov.data.query,
      successCondition: compile(sub(m.successCondition, 'successCondition'), 'successCondition', mw),
      failureCondition: compile(sub(m.failureCondition, 'failureCondition'), 'failureCondition', mw),
    };
  });
  return { name: doc.metadata.name, kind: doc.kind, source: where0, metrics, args };
}

/** Every template in a YAML file (`---` separated documents; other kinds are refused). */
export function loadTemplateFile(file: string, opts: Omit<CompileOptions, 'source'> = {}): AnalysisTemplate[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AnalysisTemplateError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseTemplates(text, file, opts);
}

export function parseTemplates(text: string, file: string, opts: Omit<CompileOptions, 'source'> = {}): AnalysisTemplate[] {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const out: AnalysisTemplate[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new AnalysisTemplateError(`${file}: invalid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    const js = d.toJS() as unknown;
    if (js === null || js === undefined) continue;
    out.push(compileTemplate(js, { ...opts, source: file }));
  }
  if (out.length === 0) throw new AnalysisTemplateError(`${file}: no AnalysisTemplate in the file`);
  return out;
}
