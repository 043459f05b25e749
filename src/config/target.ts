// Target profiles: where traffic and faults may go, how to reach Prometheus, where tokens come
// from, and the Metrics-to-monitor table of SPEC §3 as named PromQL rows.
//
// Tokens are references only — `{env: NAME}` or `{file: PATH}` — never inline values; once
// resolved they are registered with util/redact so no report or log line carries them.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../util/duration.ts';
import { CompareOpSchema, DurationText, Name, PromQLSchema } from './common.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import { redact, registerSecret } from '../util/redact.ts';

// ── errors ───────────────────────────────────────────────────────────────────

/** A profile that cannot be used; exit code 2 (usage/config). One line per problem. */
export class ProfileError extends Error {
  readonly exitCode = 2;
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(problems.map(redact).join('\n'));
    this.name = 'ProfileError';
    this.file = file;
    this.problems = problems.map(redact);
  }
}

/** `a.b[2].c` */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out || '(top level)';
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** What was there, without echoing strings: a string in a config may be a secret. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/**
 * zod issues as `FILE: field.path: what was expected` lines. `raw` is the parsed YAML, used to
 * say what was found instead.
 */
export function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    const found = valueAt(raw, issue.path);
    let what: string;
    switch (issue.code) {
      case 'invalid_type':
        what = found === undefined ? `required: expected ${issue.expected}` : `expected ${issue.expected}, got ${describe(found)}`;
        break;
      case 'unrecognized_keys':
        what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        break;
      case 'invalid_value':
        what = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeof found === 'string' ? JSON.stringify(found) : describe(found)}`;
        break;
      default:
        what = issue.message;
    }
    return `${file}: ${where}: ${what}`;
  });
}

// ── schema pieces ────────────────────────────────────────────────────────────


const HttpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an http(s) URL');


export const TokenRefSchema = z.union([z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }), z.strictObject({ file: z.string().min(1) })], {
  error: (iss) =>
    typeof iss.input === 'string' ? 'inline secrets are not allowed: use {env: NAME} or {file: PATH}' : 'expected {env: NAME} or {file: PATH}',
});
export type TokenRef = z.output<typeof TokenRefSchema>;

/** A fault command: argv (run without a shell) or one string (run through /bin/sh). */
export const CommandSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a command: a string (shell) or a list of arguments' });
export type Command = z.output<typeof CommandSchema>;

export const FaultCommandsSchema = z
  .strictObject({
    stop: CommandSchema.optional(),
    start: CommandSchema.optional(),
    kill: CommandSchema.optional(),
    pause: CommandSchema.optional(),
    resume: CommandSchema.optional(),
  })
  .superRefine((f, ctx) => {
    // Every fault must be reversible: the drill always rolls back, also on abort.
    if ((f.stop || f.kill) && !f.start) ctx.addIssue({ code: 'custom', path: ['start'], message: 'required when stop or kill is given (a stopped gateway must be restartable)' });
    if (f.pause && !f.resume) ctx.addIssue({ code: 'custom', path: ['resume'], message: 'required when pause is given' });
  });

export const GatewaySchema = z.strictObject({
  name: Name,
  url: HttpUrl,
  az: z.string().optional(),
  /** Path of the composite probe (SPEC §5). */
  probePath: z.string().startsWith('/').optional(),
  /**
   * What the probe path answers: the composite probe of SPEC §5 (default), or OpenClaw's `/readyz`
   * (`{ready, failing}`, 200/503, no auth), which tells `degraded` and nothing else.
   */
  probeKind: z.enum(['composite', 'readyz']).default('composite'),
  faults: FaultCommandsSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type Gateway = z.output<typeof GatewaySchema>;

export const MetricUnitSchema = z.enum(['ratio', 's', 'ms', 'req/s', 'bytes', 'count']);
export type MetricUnit = z.output<typeof MetricUnitSchema>;

export const MetricRowSchema = z.strictObject({
  group: z.string().min(1),
  /** The row label, as in the team's Markdown (used to fill their tables). */
  metric: z.string().min(1),
  /**
   * PromQL; `$__interval` / `$__rate_interval` / `$__range` become the run duration for the
   * target check and the step for the alert check.
   */
  query: PromQLSchema,
  unit: MetricUnitSchema,
  /** What the run should achieve, judged once over the whole run. */
  target: z.strictObject({ op: CompareOpSchema, value: z.number() }),
  /** The alert condition, judged per step; fires when it holds for `for` (default 1m: "sustained"). */
  alert: z.strictObject({ op: CompareOpSchema, value: z.number(), for: DurationText.optional() }),
  /** Whether the row counts toward the gate's verdict. Default true. */
  gate: z.boolean().default(true),
});
export type MetricRow = z.output<typeof MetricRowSchema>;

// ── defaults: SPEC §3 on the reference fleet and standard exporters ──────────

const HTTP = 'openclaw_http_request_duration_seconds';
const q = (quantile: number) => `histogram_quantile(${quantile}, sum by (le) (rate(${HTTP}_bucket{job="gateway"}[$__rate_interval])))`;
const memShare = (job: string) =>
  `max(max_over_time(process_resident_memory_bytes{job="${job}"}[$__interval])) / scalar(sum(node_memory_MemTotal_bytes{job="node"}))`;

/**
 * The default rows. Rates are averaged over the window; gauges take the window's peak, except
 * pool utilisation, which is a utilisation (the share of the pool in use over the window, per
 * gateway; its alert judges peaks that are sustained). CPU is
 * a fraction of one core (the reference processes are single-threaded Node); memory a fraction
 * of the host's memory (node_exporter). Error-ratio numerators get `or vector(0)` — a 5xx
 * series that never appeared is zero errors — but denominators never do: no requests at all
 * is no data.
 */
export const DEFAULT_METRICS: readonly MetricRow[] = Object.freeze([
  row('application', 'Request throughput (req/s)', `sum(rate(${HTTP}_count{job="gateway"}[$__rate_interval]))`, 'req/s', ['>', 1000], ['<', 500]),
  row('application', 'P50 response time', q(0.5), 's', ['<', 0.5], ['>', 1]),
  row('application', 'P95 response time', q(0.95), 's', ['<', 5], ['>', 10]),
  row('application', 'P99 response time', q(0.99), 's', ['<', 15], ['>', 30]),
  row(
    'application',
    'Error rate',
    `(sum(rate(${HTTP}_count{job="gateway",status_class="5xx"}[$__rate_interval])) or vector(0)) / sum(rate(${HTTP}_count{job="gateway"}[$__rate_interval]))`,
    'ratio',
    ['<', 0.001],
    ['>', 0.01],
  ),
  row('infrastructure', 'Gateway CPU utilization', 'max(rate(process_cpu_seconds_total{job="gateway"}[$__rate_interval]))', 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row('infrastructure', 'Gateway memory utilization', memShare('gateway'), 'ratio', ['<', 0.8], ['>', 0.9, '5m']),
  row('infrastructure', 'OPA sidecar CPU', 'max(rate(process_cpu_seconds_total{job="policy"}[$__rate_interval]))', 'ratio', ['<', 0.5], ['>', 0.8, '5m']),
  row('infrastructure', 'OPA sidecar memory', memShare('policy'), 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row('infrastructure', 'Host CPU utilization', '1 - avg(rate(node_cpu_seconds_total{job="node",mode="idle"}[$__rate_interval]))', 'ratio', ['<', 0.7], ['>', 0.85, '5m']),
  row(
    'infrastructure',
    'Load balancer 5xx rate',
    'sum(rate(haproxy_backend_http_responses_total{job="haproxy",code="5xx"}[$__rate_interval])) / sum(rate(haproxy_backend_http_responses_total{job="haproxy"}[$__rate_interval]))',
    'ratio',
    ['<', 0.001],
    ['>', 0.01],
  ),
  row(
    'database',
    'DB connection pool utilization',
    'max(avg_over_time(((sum by (instance) (openclaw_db_pool_connections{job="gateway",state="total"}) - sum by (instance) (openclaw_db_pool_connections{job="gateway",state="idle"})) / sum by (instance) (openclaw_db_pool_max{job="gateway"}))[$__interval:]))',
    'ratio',
    ['<', 0.7],
    ['>', 0.85],
  ),
  row('database', 'DB query P95 latency', 'histogram_quantile(0.95, sum by (le) (rate(openclaw_db_query_duration_seconds_bucket{job="gateway"}[$__rate_interval])))', 's', ['<', 0.1], ['>', 0.5]),
  row(
    'database',
    'DB active connections',
    // Share of the server's connection limit: target "< pool size" (< 1), alert "> 80% of pool size".
    'max_over_time((sum(pg_stat_activity_count{job="postgres",state="active"}) / scalar(max(pg_settings_max_connections{job="postgres"})))[$__interval:])',
    'ratio',
    ['<', 1],
    ['>', 0.8],
  ),
  row('database', 'Redis rejected connections', 'sum(increase(redis_rejected_connections_total{job="redis"}[$__rate_interval]))', 'count', ['<=', 0], ['>', 0, '0s']),
  row(
    'business',
    'Audit entry completeness',
    // writes_total counts acknowledged writes only; failures are counted apart.
    'sum(increase(openclaw_audit_writes_total{job="gateway"}[$__rate_interval])) / (sum(increase(openclaw_audit_writes_total{job="gateway"}[$__rate_interval])) + (sum(increase(openclaw_audit_write_failures_total{job="gateway"}[$__rate_interval])) or vector(0)))',
    'ratio',
    ['>=', 1],
    ['<', 1, '0s'],
  ),
  row(
    'business',
    'Policy evaluation success rate',
    '1 - ((sum(increase(openclaw_policy_evaluations_total{job="gateway",result="error"}[$__rate_interval])) or vector(0)) / sum(increase(openclaw_policy_evaluations_total{job="gateway"}[$__rate_interval])))',
    'ratio',
    ['>=', 1],
    ['<', 1, '0s'],
  ),
  row(
    'business',
    'Connector sync success rate',
    '(sum(increase(openclaw_connector_requests_total{job="gateway",outcome="ok"}[$__rate_interval])) or vector(0)) / sum(increase(openclaw_connector_requests_total{job="gateway"}[$__rate_interval]))',
    'ratio',
    ['>', 0.99],
    ['<', 0.95, '1h'],
  ),
]);

type Op = z.output<typeof CompareOpSchema>;
function row(group: string, metric: string, query: string, unit: MetricUnit, target: [Op, number], alert: [Op, number, string?]): MetricRow {
  const a: MetricRow['alert'] = { op: alert[0], value: alert[1] };
  if (alert[2] !== undefined) a.for = alert[2];
  return { group, metric, query, unit, target: { op: target[0], value: target[1] }, alert: a, gate: true };
}

// ── profile ──────────────────────────────────────────────────────────────────

export const TargetProfileSchema = z
  .strictObject({
    name: Name,
    description: z.string().optional(),
    /** Chaos (fault commands, drills) against this target is refused unless true. */
    allowChaos: z.boolean().default(false),
    /** The local test bed: URLs and tokens come from its state (bindTestbed), not from here. */
    testbed: z.boolean().default(false),
    /** Which kind of bed a testbed profile binds: the reference fleet or real OpenClaw gateways. */
    testbedKind: z.enum(['reference', 'openclaw']).default('reference'),
    gateways: z.array(GatewaySchema).default([]),
    /** The load balancer in front of the gateways: where load goes. */
    lb: HttpUrl.optional(),
    prometheus: z
      .strictObject({
        url: HttpUrl.optional(),
        /** The target's scrape interval: sizes $__rate_interval and alert windows. */
        scrapeInterval: DurationText.default('15s'),
        timeout: DurationText.default('15s'),
        /** Name of an entry of `tokens` sent as bearer token to Prometheus. */
        token: z.string().optional(),
      })
      .default({ scrapeInterval: '15s', timeout: '15s' }),
    /** Conventional names: gateway, hook, admin, probe (rotation drills may add more). */
    tokens: z.record(Name, TokenRefSchema).default({}),
    /** Omitted: DEFAULT_METRICS. Given: exactly these rows. */
    metrics: z.array(MetricRowSchema).optional(),
    /**
     * How scenario ws steps introduce themselves: gateways differ in protocol version and in the
     * client ids and modes they accept, and scenarios stay target-neutral. Merged over the load
     * driver's defaults; `auth` is always the gateway token.
     */
    websocket: z
      .strictObject({
        connectParams: z.record(z.string(), z.unknown()).refine((p) => !('auth' in p), 'must not carry auth (the gateway token is sent as auth)'),
      })
      .optional(),
    /**
     * Drill option defaults for this target, by drill name (`gateway-pair: {toolRate: 5}`): what
     * load a target can carry is the target's property, so the drill files stay target-neutral.
     * They go over the drill's own profile (smoke, full); `--set` goes over them.
     */
    drills: z.record(Name, z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).default({}),
    /** Webhook storm size for this target; command-line flags go over it. */
    storm: z
      .strictObject({
        senders: z.number().int().min(1).max(10_000).optional(),
        deliveries: z.number().int().min(1).max(10_000).optional(),
        spread: DurationText.optional(),
      })
      .optional(),
  })
  .superRefine((p, ctx) => {
    const at = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (p.testbed) {
      if (p.gateways.length > 0) at(['gateways'], 'must be empty for a testbed profile (filled from the test bed state)');
      if (p.lb !== undefined) at(['lb'], 'must be absent for a testbed profile (filled from the test bed state)');
      if (p.prometheus.url !== undefined) at(['prometheus', 'url'], 'must be absent for a testbed profile (filled from the test bed state)');
    } else {
      if (p.gateways.length === 0) at(['gateways'], 'expected at least one gateway');
      if (p.lb === undefined) at(['lb'], 'required: expected the load balancer URL');
      if (p.prometheus.url === undefined) at(['prometheus', 'url'], 'required: expected the Prometheus URL (thresholds are scored from it)');
    }
    const seen = new Set<string>();
    p.gateways.forEach((g, i) => {
      if (seen.has(g.name)) at(['gateways', i, 'name'], `duplicate gateway name ${JSON.stringify(g.name)}`);
      seen.add(g.name);
    });
    const rows = new Set<string>();
    p.metrics?.forEach((m, i) => {
      if (rows.has(m.metric)) at(['metrics', i, 'metric'], `duplicate metric ${JSON.stringify(m.metric)}`);
      rows.add(m.metric);
    });
    if (p.prometheus.token !== undefined && !(p.prometheus.token in p.tokens)) {
      at(['prometheus', 'token'], `no token named ${JSON.stringify(p.prometheus.token)} under tokens`);
    }
  });

export type TargetProfile = Omit<z.output<typeof TargetProfileSchema>, 'metrics'> & {
  metrics: MetricRow[];
  /** The file it was read from (absolute), for messages. */
  file: string;
};

/** Parse profile text. Relative token files resolve against the profile's directory. */
/** YAML text → plain data; syntax errors as `FILE:LINE:COL: invalid YAML: …` lines (exit 2). */
export function parseYamlFile(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ProfileError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0] ?? e.message}`;
      }),
    );
  }
  return doc.toJS() as unknown;
}

export function parseTargetProfile(text: string, file: string): TargetProfile {
  const raw = parseYamlFile(text, file);
  const parsed = TargetProfileSchema.safeParse(raw);
  if (!parsed.success) throw new ProfileError(file, formatZodIssues(file, parsed.error.issues, raw));
  const dir = path.dirname(path.resolve(file));
  const tokens: Record<string, TokenRef> = {};
  for (const [k, ref] of Object.entries(parsed.data.tokens)) tokens[k] = 'file' in ref ? { file: path.resolve(dir, ref.file) } : ref;
  return {
    ...parsed.data,
    tokens,
    metrics: parsed.data.metrics ?? DEFAULT_METRICS.map((m) => structuredClone(m)),
    file: path.resolve(file),
  };
}

export function loadTargetProfile(file: string): TargetProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProfileError(file, [`${file}: cannot read target profile (${code ?? (err as Error).message})`]);
  }
  return parseTargetProfile(text, file);
}

/** A testbed profile with URLs and token files taken from the running test bed. */
export function bindTestbed(p: TargetProfile, e: AnyTestbedEndpoints): TargetProfile {
  if (!p.testbed) throw new ProfileError(p.file, [`${p.file}: testbed: profile ${p.name} is not a testbed profile`]);
  const kind = e.kind ?? 'reference';
  if (kind !== p.testbedKind) {
    throw new ProfileError(p.file, [`${p.file}: testbedKind: profile ${p.name} is for a ${p.testbedKind} bed, but test bed ${e.id} runs ${kind === 'openclaw' ? 'real OpenClaw gateways' : 'the reference fleet'}${kind === 'openclaw' ? ' (use --target profiles/openclaw.yaml)' : ''}`]);
  }
  const tokens: Record<string, TokenRef> = { ...p.tokens };
  for (const [name, file] of Object.entries(e.tokenFiles)) tokens[name] ??= { file };
  return {
    ...p,
    gateways: e.gateways.map((g) =>
      kind === 'openclaw' ? { name: g.id, url: g.url, az: g.az, probePath: '/readyz', probeKind: 'readyz' as const } : { name: g.id, url: g.url, az: g.az, probeKind: 'composite' as const },
    ),
    lb: e.lb.url,
    prometheus: { ...p.prometheus, url: e.prometheus.url },
    tokens,
  };
}

/**
 * Read every token, register it with the redactor, and return name → value. Problems (unset
 * variable, unreadable or empty file) name the file, the field and the variable or path.
 */
export function resolveTokens(p: TargetProfile, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, ref] of Object.entries(p.tokens)) {
    let value: string | undefined;
    if ('env' in ref) {
      value = env[ref.env];
      if (value === undefined || value.trim() === '') problems.push(`${p.file}: tokens.${name}: environment variable ${ref.env} is not set`);
    } else {
      try {
        value = fs.readFileSync(ref.file, 'utf8');
        if (value.trim() === '') problems.push(`${p.file}: tokens.${name}: token file ${ref.file} is empty`);
      } catch (err) {
        problems.push(`${p.file}: tokens.${name}: cannot read token file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (value !== undefined && value.trim() !== '') {
      registerSecret(value);
      out[name] = value.trim();
    }
  }
  if (problems.length > 0) throw new ProfileError(p.file, problems);
  return out;
}

/** Refuse chaos against a profile that does not allow it (SPEC §9). */
export function assertChaosAllowed(p: TargetProfile, what: string): void {
  if (!p.allowChaos) {
    throw new ProfileError(p.file, [`${p.file}: allowChaos: ${what} refused — target ${p.name} does not set allowChaos: true`]);
  }
}

/** Seconds of the profile's scrape interval. */
export function scrapeIntervalSeconds(p: Pick<TargetProfile, 'prometheus'>): number {
  return parseDuration(p.prometheus.scrapeInterval) / 1000;
}
