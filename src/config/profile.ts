// Target profiles: where traffic and faults may go, how to reach Prometheus, where tokens come
// from, and the Metrics-to-monitor table of plan §3 as named PromQL rows.
//
// Tokens are references only — `{env: NAME}` or `{file: PATH}` — never inline values; once
// resolved they are registered with util/redact so no report or log line carries them.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BaselineRulesSchema } from './baseline-rules.ts';
import { parseDuration } from '../util/duration.ts';
import { CompareOpSchema, DurationText, Name, PromQLSchema } from './common.ts';
import { DEFAULT_METRICS } from './default-metrics.ts';
import { formatZodIssues, ProfileError } from './errors.ts';
import { registerUrlSecrets } from '../util/redact.ts';
import { parseYamlFile } from './yaml.ts';

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
/** When a provider redelivers an acknowledged event (src/storm/schedule.ts): a delay drawn from a distribution, or once the faulted gateway is back in rotation. */
const RedeliveryDelaySchema = z.union([
  z.strictObject({ uniform: z.strictObject({ min: DurationText, max: DurationText }) }),
  z.strictObject({ exponential: z.strictObject({ mean: DurationText, max: DurationText }) }),
  z.strictObject({ fixed: DurationText }),
]);

/** The most keys of one duplicate class the storm may find (`off`: not gated). */
const DuplicateGateSchema = z.union([z.number().int().min(0), z.literal('off')]);

export const StormProfileSchema = z.strictObject({
  senders: z.number().int().min(1).max(10_000).optional(),
  deliveries: z.number().int().min(1).max(10_000).optional(),
  spread: DurationText.optional(),
  /** Given: exactly these schedules (default: `soon` 10 % after 200–1,200 ms, `after-heal` 50 %). */
  redeliveries: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a name of lower-case letters, digits and "-"'),
        share: z.number().min(0).max(1),
        after: z.union([z.literal('heal'), RedeliveryDelaySchema]),
      }),
    )
    .optional(),
  /** Where each redelivery is sent (default all three). */
  aims: z.array(z.enum(['acknowledger', 'other-replica', 'lb'])).min(1).optional(),
  /** How long the after-heal phase waits for the faulted gateway back in rotation. */
  healTimeout: DurationText.optional(),
  /** Most keys allowed per duplicate class (default 0 each). */
  duplicates: z
    .strictObject({
      forgottenAcrossRestart: DuplicateGateSchema.optional(),
      notSharedAcrossReplicas: DuplicateGateSchema.optional(),
      withinProcess: DuplicateGateSchema.optional(),
    })
    .optional(),
});
export type StormProfile = z.output<typeof StormProfileSchema>;

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
  /** Path of the composite probe (plan §5). */
  probePath: z.string().startsWith('/').optional(),
  /**
   * What the probe path answers: the composite probe of plan §5 (default), or OpenClaw's `/readyz`
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
        /** Basic auth for a Prometheus behind a proxy: the password is the name of an entry of `tokens`. */
        basicAuth: z.strictObject({ username: z.string().min(1), password: z.string().min(1) }).optional(),
        /** Extra request headers (a tenant id for Mimir/Cortex, an API key): header → name of an entry of `tokens`. */
        headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name'), z.string().min(1)).optional(),
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
    /**
     * Webhook storm settings for this target: its size, its redelivery schedules and aims, and the
     * gates on each class of duplicate; command-line flags go over it.
     */
    storm: StormProfileSchema.optional(),
    /**
     * What counts as a regression when a run is judged against a baseline (`gate --baseline`,
     * `compare --target`); omitted: P99 more than 15 % worse (and the judge finding the latency
     * significantly higher), or the error rate up beyond noise.
     */
    baseline: BaselineRulesSchema.optional(),
    /** Send the run's events to a Faro receiver as well as to events.ndjson (`--faro-url` goes over it). */
    faro: z.strictObject({ url: HttpUrl, app: z.string().min(1).default('clawstorm') }).optional(),
    /**
     * How a canary's traffic share is set on this target (a real fleet: a DNS weight API,
     * `kubectl argo rollouts set weight …`, a service-mesh call). `{weight}` is the canary's
     * percent (0–100), `{gateway}` its name. The test bed sets HAProxy weights itself.
     */
    canary: z
      .strictObject({
        setWeight: CommandSchema,
        /** Run after every step passed (the new version becomes the stable one); optional. */
        promote: CommandSchema.optional(),
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
    if (p.prometheus.basicAuth !== undefined && !(p.prometheus.basicAuth.password in p.tokens)) {
      at(['prometheus', 'basicAuth', 'password'], `no token named ${JSON.stringify(p.prometheus.basicAuth.password)} under tokens`);
    }
    for (const [h, name] of Object.entries(p.prometheus.headers ?? {})) {
      if (!(name in p.tokens)) at(['prometheus', 'headers', h], `no token named ${JSON.stringify(name)} under tokens`);
    }
  });

export type TargetProfile = Omit<z.output<typeof TargetProfileSchema>, 'metrics'> & {
  metrics: MetricRow[];
  /** The file it was read from (absolute), for messages. */
  file: string;
};

/** Parse profile text. Relative token files resolve against the profile's directory. */
export function parseTargetProfile(text: string, file: string): TargetProfile {
  const raw = parseYamlFile(text, file);
  // Credentials written into URLs are secrets from the moment the file is read: no message
  // about this profile, not even a validation error, may print them.
  registerUrlsIn(raw);
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

/** Seconds of the profile's scrape interval. */
export function scrapeIntervalSeconds(p: Pick<TargetProfile, 'prometheus'>): number {
  return parseDuration(p.prometheus.scrapeInterval) / 1000;
}

/** Every string in the parsed YAML that looks like a URL: its credentials are registered secrets. */
function registerUrlsIn(v: unknown, depth = 0): void {
  if (depth > 8) return;
  if (typeof v === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) registerUrlSecrets(v);
  } else if (Array.isArray(v)) for (const x of v) registerUrlsIn(x, depth + 1);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) registerUrlsIn(x, depth + 1);
}
