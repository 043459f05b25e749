// Scenario files (scenarios/*.yaml): the declarative load shape, request mix and pass criteria of
// one load scenario. Engines read them; nothing here knows a particular scenario.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseExecutorConfig, type ExecutorConfig, type ExecutorConfigInput } from '../load/executors/index.ts';
import { parseDuration } from '../util/duration.ts';
import { monitorThresholdsSchema } from '../load/monitor.ts';
import { DurationText, LowerName as Name, PromQLSchema, ThresholdExprText as Expr } from './common.ts';
import { PromThresholdSchema, type PromThreshold } from './prom-threshold.ts';
import { formatZodIssues, ProfileError } from './errors.ts';
import { parseYamlFile } from './yaml.ts';


/** JSON-ish values with `{{var}}` templates in strings (rendered per iteration). */
type Template = string | number | boolean | null | Template[] | { [k: string]: Template };
const TemplateSchema: z.ZodType<Template> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(TemplateSchema), z.record(z.string(), TemplateSchema)]),
);

const StepCommon = {
  name: Name,
  /** Reads and writes are scored apart in the mixed workload. */
  kind: z.enum(['read', 'write']).default('read'),
  timeout: DurationText.default('30s'),
  /** Statuses that count as success; default 2xx. */
  expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
};

/** A tool invocation: POST /tools/invoke through the load balancer, gateway token. */
const ToolStepSchema = z.strictObject({
  ...StepCommon,
  tool: z.string().min(1),
  args: z.record(z.string(), TemplateSchema).default({}),
  /** Remember {requestId, auditId} of every acknowledged call, for the audit-lookup check. */
  recordAck: z.boolean().default(false),
});

/** Any other HTTP call on the gateway surface (Enterprise REST, hooks). */
const HttpStepSchema = z.strictObject({
  ...StepCommon,
  http: z.strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().startsWith('/'),
    body: TemplateSchema.optional(),
    /** Which token goes in the Authorization header. */
    token: z.enum(['gateway', 'hook', 'admin']).default('gateway'),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  /** Remember values of the JSON answer for later steps of the iteration: `{policyId: 'id'}` → `{{policyId}}`. */
  capture: z.record(z.string().regex(/^[a-zA-Z_]+$/), z.string().min(1)).default({}),
});

/**
 * A WebSocket session on the gateway's RPC surface: open (challenge → connect → hello), hold it
 * open for `hold` sending every one of `calls` each `every`, then close. Its samples go to three
 * derived steps — `<name>.connect`, `<name>.rpc` (tagged with the RPC method), `<name>.close` —
 * because handshake, RPC and teardown latencies are different quantities to judge.
 */
const WsStepSchema = z
  .strictObject({
    name: StepCommon.name,
    kind: StepCommon.kind,
    /** Bound on the handshake and on each RPC. */
    timeout: StepCommon.timeout,
    ws: z.strictObject({
      /** Upgrade path on the target's base URL (scheme http→ws, https→wss). */
      path: z.string().startsWith('/').default('/'),
      /** How long the session stays open after hello. */
      hold: DurationText,
      /** Tick interval: each tick sends all calls at once and waits for their answers. */
      every: DurationText.default('1s'),
      calls: z
        .array(
          z.strictObject({
            method: z.string().min(1),
            params: TemplateSchema.default({}),
          }),
        )
        .default([]),
      /** Bound on the closing handshake; a peer that does not answer in time makes it unclean. */
      closeTimeout: DurationText.default('5s'),
    }),
  })
  .superRefine((st, ctx) => {
    if (st.ws.calls.length > 0 && parseDuration(st.ws.every) <= 0) {
      ctx.addIssue({ code: 'custom', path: ['ws', 'every'], message: 'must be above 0 when calls are given' });
    }
  });

export type ToolStep = z.output<typeof ToolStepSchema>;
export type HttpStep = z.output<typeof HttpStepSchema>;
export type WsStep = z.output<typeof WsStepSchema>;
export type Step = ToolStep | HttpStep | WsStep;

const STEP_KINDS = { tool: ToolStepSchema, http: HttpStepSchema, ws: WsStepSchema } as const;

/**
 * Dispatch on the one key that says what a step is, so a broken step is reported against its
 * own schema ("ws.hold: required") rather than as a union mismatch ("Invalid input").
 */
export const StepSchema = z.unknown().transform((v, ctx): Step => {
  const keys = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).filter((k): k is keyof typeof STEP_KINDS => k in STEP_KINDS) : [];
  const [key] = keys;
  if (key === undefined || keys.length > 1) {
    ctx.addIssue({ code: 'custom', message: `a step needs exactly one of ${Object.keys(STEP_KINDS).join(', ')}${keys.length > 1 ? ` (has ${keys.join(', ')})` : ''}` });
    return z.NEVER;
  }
  const r = STEP_KINDS[key].safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue(issue as z.core.$ZodRawIssue);
  return z.NEVER;
});

/** The step names a step's samples carry (what threshold selects name). */
export function sampleStepNames(step: Step): string[] {
  return 'ws' in step ? [`${step.name}.connect`, `${step.name}.rpc`, `${step.name}.close`] : [step.name];
}

export const JourneySchema = z.strictObject({
  name: Name,
  /** Share of iterations in a mix (weights are relative; 40/25/20/10/5 in the mixed workload). */
  weight: z.number().positive().default(1),
  /** Steps run one after another, or all at once (connector burst). */
  parallel: z.boolean().default(false),
  /** Pause after each iteration of this journey (closed-model users think). */
  thinkTime: DurationText.optional(),
  steps: z.array(StepSchema).min(1),
});
export type Journey = z.output<typeof JourneySchema>;

/** Which samples a client threshold looks at. */
const SelectSchema = z
  .strictObject({
    steps: z.array(Name).min(1).optional(),
    kind: z.enum(['read', 'write']).optional(),
    /** The samples' method tag: the tool name, `POST /path`, or the RPC method of a ws step. */
    methods: z.array(z.string().min(1)).min(1).optional(),
  })
  .default({});

export const ClientThresholdSchema = z.strictObject({
  name: z.string().min(1),
  /** `latency` (ms percentiles, from HDR), `errors` (failed requests; rate = errors/requests), or a verification figure. */
  metric: z.union([z.enum(['latency', 'errors', 'dropped']), z.string().regex(/^figure:[a-z0-9_]+$/)]),
  select: SelectSchema,
  expr: Expr,
});
export type ScenarioClientThreshold = z.output<typeof ClientThresholdSchema>;

/** Informational PromQL figures (connector 429s, retries, restarts…), over the scenario window. */
export const FigureSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]+$/),
  query: PromQLSchema,
  unit: z.string().optional(),
  /**
   * `delta`: the query is a counter sum (`sum(x_total)`), read at the end and at the start of the
   * scenario window and subtracted: an exact count, where increase() extrapolates to the window's
   * edges (5,000 writes read as 5,555).
   */
  mode: z.enum(['instant', 'delta']).default('instant'),
});

export const VerifySchema = z.strictObject({
  /** Look every acknowledged audit write up again in the store: dropped = acknowledged − found. */
  kind: z.literal('audit-lookup'),
});

export const ScenarioFileSchema = z.strictObject({
  name: Name,
  /** Row of the results template (plan §6). */
  title: z.string().min(1),
  description: z.string().optional(),
  /** Executor per profile: the load shape. Pass criteria do not depend on the profile. */
  profiles: z.record(z.string(), z.record(z.string(), z.unknown())),
  /** Spread users over this many tenants (`X-Tenant-Id: t-<vu mod n>`); per-tenant API limits apply to each. Unset: the target's default tenant. */
  tenants: z.number().int().min(1).optional(),
  journeys: z.array(JourneySchema).min(1),
  thresholds: z.array(ClientThresholdSchema).default([]),
  promql: z.array(PromThresholdSchema).default([]),
  figures: z.array(FigureSchema).default([]),
  verify: z.array(VerifySchema).default([]),
  /** Load-generator health bounds (src/load/monitor.ts) where the scenario's latency scale allows looser ones. */
  generator: monitorThresholdsSchema.partial().optional(),
});

export interface ScenarioFile extends Omit<z.output<typeof ScenarioFileSchema>, 'profiles' | 'promql'> {
  file: string;
  /** Parsed executors (validated at load time). */
  profiles: Record<string, ExecutorConfig>;
  /** The same blocks as written, for the engine (which parses them itself). */
  profileInputs: Record<string, ExecutorConfigInput>;
  promql: PromThreshold[];
}

export function parseScenario(text: string, file: string): ScenarioFile {
  const raw = parseYamlFile(text, file);
  const parsed = ScenarioFileSchema.safeParse(raw);
  if (!parsed.success) throw new ProfileError(file, formatZodIssues(file, parsed.error.issues, raw));
  const s = parsed.data;
  const problems: string[] = [];
  const profiles: Record<string, ExecutorConfig> = {};
  for (const [name, block] of Object.entries(s.profiles)) {
    try {
      profiles[name] = parseExecutorConfig(block, `${file}: profiles.${name}`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const stepNames = new Set<string>();
  const wsSteps = new Map<string, string[]>();
  s.journeys.forEach((j, ji) =>
    j.steps.forEach((st, si) => {
      // Derived names share the namespace: a tool step "s.rpc" would merge into ws step "s".
      for (const n of new Set([st.name, ...sampleStepNames(st)])) {
        if (stepNames.has(n)) problems.push(`${file}: journeys[${ji}].steps[${si}].name: duplicate step name ${JSON.stringify(n)}`);
        stepNames.add(n);
      }
      if ('ws' in st) wsSteps.set(st.name, sampleStepNames(st));
    }),
  );
  s.thresholds.forEach((t, i) => {
    for (const st of t.select.steps ?? []) {
      const derived = wsSteps.get(st);
      if (derived !== undefined) {
        problems.push(`${file}: thresholds[${i}].select.steps: ${JSON.stringify(st)} is a ws step; select its samples as ${derived.map((d) => JSON.stringify(d)).join(', ')}`);
      } else if (!stepNames.has(st)) {
        problems.push(`${file}: thresholds[${i}].select.steps: no step named ${JSON.stringify(st)}`);
      }
    }
  });
  if (problems.length > 0) throw new ProfileError(file, problems);
  return { ...s, file: path.resolve(file), profiles, profileInputs: s.profiles as Record<string, ExecutorConfigInput> };
}

export function loadScenario(file: string): ScenarioFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileError(file, [`${file}: cannot read scenario file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parseScenario(text, file);
}

export const SCENARIO_DIR = path.resolve(import.meta.dirname, '../../scenarios');

/**
 * Scenario by name (`audit-write`), by name under a subdirectory of the scenario directory
 * (`openclaw/hook-storm`), or by path; unknown names list what exists.
 */
export function resolveScenario(nameOrPath: string, dir = SCENARIO_DIR): ScenarioFile {
  if (nameOrPath.endsWith('.yaml')) return loadScenario(nameOrPath);
  if (nameOrPath.includes('/')) {
    const inDir = path.join(dir, `${nameOrPath}.yaml`);
    const isName = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)+$/.test(nameOrPath);
    return loadScenario(isName && fs.existsSync(inDir) ? inDir : nameOrPath);
  }
  const file = path.join(dir, `${nameOrPath}.yaml`);
  if (!fs.existsSync(file)) {
    const known = listScenarios(dir);
    throw new ProfileError(file, [`unknown scenario ${JSON.stringify(nameOrPath)}; known: ${known.join(', ')}`]);
  }
  return loadScenario(file);
}

export function listScenarios(dir = SCENARIO_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Render `{{var}}` in every string of a template. A string that is exactly one variable keeps the variable's type. */
export function render(t: Template, vars: Record<string, string | number>): unknown {
  if (typeof t === 'string') {
    const whole = /^\{\{\s*([a-zA-Z_]+)\s*\}\}$/.exec(t);
    if (whole) {
      const v = vars[whole[1] as string];
      if (v === undefined) throw new Error(`unknown template variable {{${whole[1]}}}`);
      return v;
    }
    return t.replace(/\{\{\s*([a-zA-Z_]+)\s*\}\}/g, (_m, k: string) => {
      const v = vars[k];
      if (v === undefined) throw new Error(`unknown template variable {{${k}}}`);
      return String(v);
    });
  }
  if (Array.isArray(t)) return t.map((x) => render(x, vars));
  if (t !== null && typeof t === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t)) out[k] = render(v, vars);
    return out;
  }
  return t;
}
