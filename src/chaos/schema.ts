// Drill files (scenarios/drills/*.yaml): a steady-state hypothesis, a method (faults at given
// moments, under load), watchers that measure the drill's figures, and pass criteria. Options
// (`{{mode}}`, `{{victim}}` …) are rendered into every string first; profiles (smoke, full) and
// the command line override option defaults. Errors name the file and the field.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { monitorThresholdsSchema } from '../load/monitor.ts';
import { CompareOpSchema, DurationMs as Duration, LowerName as Name, PromQLSchema, ThresholdExprText as Expr } from '../config/common.ts';
import { formatZodIssues, ProfileError } from '../config/errors.ts';
import { parseYamlFile } from '../config/yaml.ts';
import { render } from '../config/scenario.ts';
import { STEP_KEYS, StepSchema } from './steps/index.ts';
import { TokenName } from './steps/tokens.ts';

export const DRILL_DIR = path.resolve(import.meta.dirname, '../../scenarios/drills');

/** `name`, or `<step id>.<name>` for figures a method step produces. */
const FigureName = z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)?$|^[a-z0-9][a-z0-9_.-]*\.[a-z0-9_]+$/, 'expected a figure name of lower-case letters, digits and "_" (or <step id>.<name>)');


const OptionValue = z.union([z.string(), z.number(), z.boolean()]);
export type OptionValue = z.infer<typeof OptionValue>;

const OptionSchema = z.strictObject({
  default: OptionValue,
  values: z.array(OptionValue).min(1).optional(),
  describe: z.string().optional(),
});

/** Gateways by name, or `all`. */

// ── hypothesis ───────────────────────────────────────────────────────────────

export const PhaseSchema = z.enum(['before', 'during', 'after']);
export type Phase = z.infer<typeof PhaseSchema>;

const LoadScenario = z.enum(['tools', 'webhooks', 'all']);

const ProbeBase = {
  name: z.string().min(1),
  phases: z.array(PhaseSchema).min(1).default(['before', 'during', 'after']),
  /** During: consecutive failing checks tolerated (a failover blip) before the probe deviates. */
  tolerance: z.number().int().min(0).default(0),
};

export const ProbeSchema = z.union([
  /** Client-side, from the drill's own load over a sliding window. */
  z.strictObject({
    ...ProbeBase,
    client: z.strictObject({
      scenario: LoadScenario.default('all'),
      metric: z.enum(['errors', 'latency', 'status']),
      /** metric status: the HTTP status counted (401 …). */
      status: z.number().int().min(100).max(599).optional(),
      expr: Expr,
      window: Duration.default(3_000),
    }),
  }),
  /** A PromQL instant query: every series must satisfy `op value`; no series is no data. */
  z.strictObject({ ...ProbeBase, promql: z.strictObject({ query: PromQLSchema, op: CompareOpSchema, value: z.number() }) }),
  /** A gateway's composite probe: schema-valid and these fields as expected. */
  z.strictObject({
    ...ProbeBase,
    probe: z.strictObject({
      gateway: z.string().min(1),
      expect: z.strictObject({ status: z.enum(['healthy', 'degraded']).optional(), degraded: z.boolean().optional(), disk_ok: z.boolean().optional() }),
    }),
  }),
  /** The load balancer's view of a server. */
  z.strictObject({ ...ProbeBase, lb: z.strictObject({ server: z.string().min(1), up: z.boolean().default(true) }) }),
]);
export type Probe = z.output<typeof ProbeSchema>;

// ── method: the step kinds are a registry (src/chaos/steps) ──────────────────

// ── watchers ─────────────────────────────────────────────────────────────────

export const WatchSchema = z.discriminatedUnion('kind', [
  /** ms from mark `from` until HAProxy sees the server DOWN (or UP again: lb-up). */
  z.strictObject({ kind: z.literal('lb-down'), name: FigureName, server: z.string(), from: Name, timeout: Duration.default(60_000) }),
  z.strictObject({ kind: z.literal('lb-up'), name: FigureName, server: z.string(), from: Name, timeout: Duration.default(60_000) }),
  /** ms from mark `from` until the query's every series satisfies `op value`. */
  z.strictObject({ kind: z.literal('promql-until'), name: FigureName, query: PromQLSchema, op: CompareOpSchema, value: z.number(), from: Name, timeout: Duration.default(60_000) }),
  /** Failed client requests between two marks (to: the end of the load when absent). */
  z.strictObject({ kind: z.literal('client-errors'), name: FigureName, from: Name, to: Name.optional(), scenario: LoadScenario.default('all') }),
  /** Responses with this status over the whole drill. */
  z.strictObject({ kind: z.literal('client-status'), name: FigureName, status: z.number().int().min(100).max(599), scenario: LoadScenario.default('all') }),
  /** Webhook queue depth: high-water and time to drain after the load stops. */
  z.strictObject({ kind: z.literal('queue-depth'), name: FigureName, interval: Duration.default(250) }),
  /** Every acknowledged webhook looked up on the receiving side: lost, duplicated. */
  z.strictObject({ kind: z.literal('webhook-accounting'), name: FigureName, timeout: Duration.default(30_000) }),
]);
export type Watch = z.output<typeof WatchSchema>;

export const CriterionSchema = z.strictObject({
  name: z.string().min(1),
  figure: FigureName,
  op: CompareOpSchema,
  value: z.number(),
  /** Judge it only when this (rendered) value holds: truthy, or `a == b` / `a != b` (condition.ts). */
  if: OptionValue.optional(),
});
export type Criterion = z.output<typeof CriterionSchema>;

// ── the file ─────────────────────────────────────────────────────────────────

const HeadSchema = z.strictObject({
  name: Name,
  title: z.string().min(1),
  description: z.string().optional(),
  options: z.record(z.string().regex(/^[a-zA-Z_]+$/, 'expected an option name of letters and "_" (the {{name}} template syntax)'), OptionSchema).default({}),
  profiles: z.record(z.string(), z.record(z.string(), OptionValue)).default({}),
  body: z.unknown(),
});

export const DrillBodySchema = z.strictObject({
  /** Servers of the load balancer the drill is about; the others leave rotation for its length. */
  scope: z.strictObject({ servers: z.array(z.string().min(1)).min(1) }).optional(),
  timing: z.strictObject({ warmup: Duration.default(3_000), recover: Duration.default(5_000) }).default({ warmup: 3_000, recover: 5_000 }),
  load: z
    .strictObject({
      tools: z.strictObject({ rate: z.number().positive().max(5_000), tool: z.string().min(1).default('sessions_list'), timeout: Duration.default(10_000), token: TokenName.default('gateway') }).optional(),
      webhooks: z.strictObject({ rate: z.number().positive().max(5_000), hook: z.enum(['agent', 'wake']).default('agent'), timeout: Duration.default(10_000) }).optional(),
    })
    .default({}),
  hypothesis: z
    .strictObject({
      interval: Duration.default(1_000),
      /** After the rollbacks the hypothesis must hold again within this long. */
      afterTimeout: Duration.default(30_000),
      probes: z.array(ProbeSchema).default([]),
    })
    .default({ interval: 1_000, afterTimeout: 30_000, probes: [] }),
  method: z.array(StepSchema).min(1),
  watch: z.array(WatchSchema).default([]),
  criteria: z.array(CriterionSchema).default([]),
  /** Load-generator health bounds (src/load/monitor.ts) where the drill's latency scale allows looser ones. */
  generator: monitorThresholdsSchema.partial().optional(),
});

export type DrillBody = z.output<typeof DrillBodySchema>;

export interface DrillFile extends DrillBody {
  name: string;
  title: string;
  description?: string;
  file: string;
  /** The option values the body was rendered with. */
  options: Record<string, OptionValue>;
  profile: string;
}

export interface DrillLoadOptions {
  profile?: string;
  /** Command-line overrides (`--mode hang`, `--set victim=gw-2`). */
  set?: Record<string, OptionValue>;
}

const STEP_ACTIONS: readonly string[] = STEP_KEYS;
const PROBE_KINDS = ['client', 'promql', 'probe', 'lb'];

/**
 * A union (a step, a probe) that failed names the branch its keys chose: the issues of the branch
 * that did not reject the keys themselves, under the full path. Without one, what was expected.
 */
export function flattenUnionIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
      out.push(issue);
      continue;
    }
    // A branch does not fit when it refused the keys themselves, or when its own action key is
    // missing or of the wrong type (a union-typed action such as `wait` fails with invalid_union).
    const atOwnKey = (i: z.core.$ZodIssue) => (i.code === 'invalid_type' || i.code === 'invalid_union') && i.path.length === 1 && (STEP_ACTIONS.includes(String(i.path[0])) || PROBE_KINDS.includes(String(i.path[0])));
    const fits = issue.errors.filter((b) => !b.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0) && !b.some(atOwnKey));
    if (fits.length === 1) {
      out.push(...flattenUnionIssues(fits[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))));
      continue;
    }
    const last = issue.path[issue.path.length - 2];
    const kinds = last === 'method' ? STEP_ACTIONS : last === 'probes' ? PROBE_KINDS : undefined;
    out.push(kinds ? { ...issue, message: `expected exactly one of ${kinds.join(', ')} (with its fields)` } : issue);
  }
  return out;
}


/** Parse and render a drill file with the given profile and overrides. */
export function parseDrill(text: string, file: string, opts: DrillLoadOptions = {}): DrillFile {
  const raw = parseYamlFile(text, file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProfileError(file, [`${file}: (top level): expected a mapping`]);
  const { name, title, description, options, profiles, ...rest } = raw as Record<string, unknown>;
  const head = HeadSchema.safeParse({ name, title, description, options, profiles, body: undefined });
  if (!head.success) throw new ProfileError(file, formatZodIssues(file, head.error.issues, raw));
  const h = head.data;
  const profile = opts.profile ?? 'smoke';
  const problems: string[] = [];
  if (Object.keys(h.profiles).length > 0 && h.profiles[profile] === undefined) {
    problems.push(`${file}: profiles: drill ${h.name} has no profile ${JSON.stringify(profile)} (has ${Object.keys(h.profiles).join(', ')})`);
  }
  const values: Record<string, OptionValue> = {};
  for (const [k, o] of Object.entries(h.options)) values[k] = o.default;
  for (const [k, v] of Object.entries(h.profiles[profile] ?? {})) {
    if (!(k in h.options)) problems.push(`${file}: profiles.${profile}.${k}: no option ${JSON.stringify(k)} (options: ${Object.keys(h.options).join(', ') || 'none'})`);
    values[k] = v;
  }
  for (const [k, v] of Object.entries(opts.set ?? {})) {
    const o = h.options[k];
    if (o === undefined) {
      problems.push(`${file}: options: drill ${h.name} has no option ${JSON.stringify(k)} (options: ${Object.keys(h.options).join(', ') || 'none'})`);
      continue;
    }
    // Command-line values arrive as text; keep the option's type.
    values[k] = typeof o.default === 'number' && typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : typeof o.default === 'boolean' && typeof v === 'string' ? v === 'true' : v;
  }
  for (const [k, o] of Object.entries(h.options)) {
    if (o.values !== undefined && !o.values.includes(values[k] as OptionValue)) {
      problems.push(`${file}: options.${k}: expected one of ${o.values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(values[k])}`);
    }
  }
  if (problems.length > 0) throw new ProfileError(file, problems);

  let rendered: unknown;
  try {
    rendered = render(rest as Parameters<typeof render>[0], values as Record<string, string | number>);
  } catch (err) {
    throw new ProfileError(file, [`${file}: ${(err as Error).message} (options: ${Object.keys(h.options).join(', ') || 'none'})`]);
  }
  const body = DrillBodySchema.safeParse(rendered);
  if (!body.success) throw new ProfileError(file, formatZodIssues(file, flattenUnionIssues(body.error.issues), rendered));
  const b = body.data;
  const ids = new Set<string>();
  b.method.forEach((s, i) => {
    if (s.at !== undefined && s.after !== undefined) problems.push(`${file}: method[${i}]: give at or after, not both`);
    if (s.id === undefined) return;
    if (ids.has(s.id)) problems.push(`${file}: method[${i}].id: duplicate step id ${JSON.stringify(s.id)}`);
    ids.add(s.id);
  });
  b.watch.forEach((w, i) => {
    for (const k of ['from', 'to'] as const) {
      const m = (w as { from?: string; to?: string })[k];
      if (m !== undefined && !ids.has(m)) problems.push(`${file}: watch[${i}].${k}: no method step with id ${JSON.stringify(m)}`);
    }
  });
  b.hypothesis.probes.forEach((p, i) => {
    if ('client' in p && p.client.metric === 'status' && p.client.status === undefined) problems.push(`${file}: hypothesis.probes[${i}].client.status: required for metric status`);
  });
  if (problems.length > 0) throw new ProfileError(file, problems);
  return { ...b, name: h.name, title: h.title, ...(h.description !== undefined ? { description: h.description } : {}), file: path.resolve(file), options: values, profile };
}

export function loadDrill(file: string, opts: DrillLoadOptions = {}): DrillFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileError(file, [`${file}: cannot read drill file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parseDrill(text, file, opts);
}

export function listDrills(dir = DRILL_DIR): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

/** A drill by name (`gateway-pair`) or path; unknown names list what exists. */
export function resolveDrill(nameOrPath: string, opts: DrillLoadOptions = {}, dir = DRILL_DIR): DrillFile {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.includes('/')) return loadDrill(nameOrPath, opts);
  const file = path.join(dir, `${nameOrPath}.yaml`);
  if (!fs.existsSync(file)) throw new ProfileError(file, [`unknown drill ${JSON.stringify(nameOrPath)}; known: ${listDrills(dir).join(', ')}`]);
  return loadDrill(file, opts);
}
