// results.json: the machine-readable source of every other report format.
//
// JSON has no ±Infinity (a histogram_quantile landing in the +Inf bucket is a real, terrible
// result), so they are written as the strings "+Inf" / "-Inf" and read back as numbers. NaN is
// never stored: a value that was not measured is null.
import fs from 'node:fs';
import { z } from 'zod';
import type { MetricRowResult } from '../score/metrics.ts';
import type { BaselineLookup } from '../score/promql.ts';
import type { ThresholdResult } from '../score/types.ts';
import type { OverallVerdict } from '../score/verdict.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { redactDeep } from '../util/redact.ts';
import { AutoscaleSectionSchema } from './autoscale-schema.ts';
import { BaselineSectionSchema } from './baseline-schema.ts';
import { RunnersSectionSchema } from './runners-schema.ts';
import { CanarySectionSchema } from './canary-schema.ts';

/**
 * v3 added the optional `canary`, `baseline`, `events` and `runners` sections and each scenario's
 * `histogram`; v2 added `autoscale`. v1 and v2 documents still read (every addition is optional).
 */
export const RESULTS_SCHEMA = 'clawstorm.results/v3';
export const RESULTS_SCHEMAS_READ = ['clawstorm.results/v1', 'clawstorm.results/v2', RESULTS_SCHEMA] as const;

/** A number, ±Infinity included (read back from "+Inf"/"-Inf"); never NaN. */
const Num = z.preprocess(
  (v) => (v === '+Inf' ? Number.POSITIVE_INFINITY : v === '-Inf' ? Number.NEGATIVE_INFINITY : v),
  z.custom<number>((v) => typeof v === 'number' && !Number.isNaN(v), { message: 'expected a number (or "+Inf"/"-Inf")' }),
);
const Count = z.number().int().min(0);
const Iso = z.iso.datetime({ offset: true });

export const VerdictSchema = z.enum(['pass', 'fail', 'inconclusive', 'no_data']);
export const OverallVerdictSchema = z.enum(['pass', 'fail', 'no_data', 'inconclusive']);
export const ScenarioStatusSchema = z.enum(['Pass', 'Fail', 'Inconclusive', 'No data', 'Not run']);
export type ScenarioStatus = z.output<typeof ScenarioStatusSchema>;

export const ThresholdResultSchema = z.object({
  name: z.string(),
  source: z.enum(['client', 'promql', 'server']),
  expr: z.string(),
  query: z.string().optional(),
  observed: Num.nullable(),
  unit: z.string().optional(),
  verdict: VerdictSchema,
  detail: z.string(),
  regression: z
    .object({ maxIncreasePct: z.number(), baseline: Num.nullable(), changePct: Num.nullable(), verdict: VerdictSchema })
    .optional(),
});

/** One second of one scenario (the load engine's SecondBucket). Latencies in ms. */
export const SecondBucketSchema = z.object({
  /** Unix time, seconds. */
  t: z.number(),
  count: Count,
  errors: Count,
  p50: Num.nullable(),
  p95: Num.nullable(),
  p99: Num.nullable(),
  max: Num.nullable(),
});

export const ScenarioResultSchema = z.object({
  /** Scenario id, e.g. `policy-evaluation`. */
  name: z.string(),
  /** Row label in the results template, e.g. `Policy Evaluation`. */
  title: z.string(),
  status: ScenarioStatusSchema,
  startedAt: Iso.optional(),
  endedAt: Iso.optional(),
  /** Latency percentiles in milliseconds (corrected for coordinated omission where measured so). */
  p50: Num.nullable(),
  p95: Num.nullable(),
  p99: Num.nullable(),
  /** Failed requests / requests (0…1). */
  errorRate: Num.nullable(),
  /** What errorRate divides by (plan §11: say it). */
  errorRateOf: z.string().default('requests'),
  requests: Count,
  errors: Count,
  /** Starts the executor could not make (k6's dropped_iterations). */
  dropped: Count,
  thresholds: z.array(ThresholdResultSchema).default([]),
  /** Why the status is what it is (from the verdict rules), one short line each. */
  reasons: z.array(z.string()).default([]),
  /** Scenario-specific figures: missing audit ids, lost webhooks, queue high-water, … */
  extra: z.record(z.string(), z.union([Num, z.string(), z.boolean(), z.null()])).default({}),
  /** Why a figure is null: it could not be measured (figure name → reason). */
  noData: z.record(z.string(), z.string()).default({}),
  /** More percentiles for the percentile chart ({p: 99.9, ms: 812}). */
  percentiles: z.array(z.object({ p: z.number().min(0).max(100), ms: Num })).optional(),
  /** Per-second series for the latency-over-time chart. */
  series: z.array(SecondBucketSchema).default([]),
  /**
   * Every timed request of the scenario as an HDR histogram (microseconds, hdr-histogram-js
   * `encode()`), so runs and runners merge exactly (`mergeEncoded`) and baselines compare
   * distributions, never averages of percentiles. Absent when nothing was timed.
   */
  histogram: z.string().min(1).optional(),
});

export const MetricRowResultSchema = z.object({
  group: z.string(),
  metric: z.string(),
  query: z.string(),
  unit: z.string(),
  target: z.object({ op: z.string(), value: Num }),
  alert: z.object({ op: z.string(), value: Num, for: z.string().optional() }),
  gate: z.boolean().default(true),
  observed: Num.nullable(),
  alerting: z.boolean().nullable(),
  verdict: VerdictSchema,
  detail: z.string(),
});

/** Every gateway's probe over the run (plan §5): latency, degraded samples, drift. */
export const ProbeSummarySchema = z.object({
  gateways: z.array(
    z.object({
      gateway: z.string(),
      kind: z.enum(['composite', 'readyz']),
      path: z.string(),
      samples: Count,
      answered: Count,
      p50Ms: Num.nullable(),
      p95Ms: Num.nullable(),
      maxMs: Num.nullable(),
      degradedSamples: Count,
      firstDegradedAt: Num.nullable(),
      degradedReasons: z.array(z.string()),
      problems: Count,
      firstProblem: z.string().nullable(),
    }),
  ),
  drift: z.array(z.string()),
  disagreements: z.array(z.string()),
});
/** One second of one storm discipline, by when the answers came. */
export const StormSecondSchema = z.object({
  /** Unix time, seconds. */
  t: z.number(),
  /** Requests answered in this second (every attempt, retries included). */
  requests: Count,
  /** Deliveries acknowledged (2xx with a run id). */
  accepted: Count,
  /** Answers 429 (throttled). */
  status429: Count,
  /** Deliveries acknowledged in this second whose run was never found on the receiving side; null when that side could not be read. */
  lost: Count.nullable(),
});
export type StormSecond = z.output<typeof StormSecondSchema>;

export const DrillResultSchema = z.object({
  name: z.string(),
  title: z.string(),
  status: ScenarioStatusSchema,
  startedAt: Iso.optional(),
  /** Timeline: seconds since the drill started. */
  events: z.array(z.object({ t: z.number(), label: z.string(), kind: z.string().optional() })).default([]),
  figures: z.record(z.string(), z.union([Num, z.string(), z.boolean(), z.null()])).default({}),
  /** Why a figure is null: it could not be measured, or its condition was never exercised. */
  noData: z.record(z.string(), z.string()).default({}),
  thresholds: z.array(ThresholdResultSchema).default([]),
  /** Why the status is what it is (from the verdict rules), one short line each. */
  reasons: z.array(z.string()).default([]),
  probes: ProbeSummarySchema.optional(),
  /** The client's per-second series under the drill's load (latencies in ms), for the charts. */
  series: z.array(SecondBucketSchema).default([]),
  /** A storm's per-second answers, per retry discipline (`capped`, `unbounded`). */
  disciplines: z.record(z.string(), z.array(StormSecondSchema)).default({}),
});
export type DrillResult = z.input<typeof DrillResultSchema>;

export const ResultsSchema = z.object({
  schema: z.enum(RESULTS_SCHEMAS_READ),
  runId: z.string().min(1),
  startedAt: Iso,
  endedAt: Iso,
  /** Run profile: `smoke`, `full`, … */
  profile: z.string(),
  /** Target profile name (redacted). */
  target: z.string(),
  verdict: OverallVerdictSchema,
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  aborted: z.boolean(),
  abortReason: z.string().optional(),
  /** Why the verdict is what it is (from score/verdict). */
  reasons: z.array(z.string()).default([]),
  scenarios: z.array(ScenarioResultSchema),
  /** Run-level thresholds not tied to one scenario. */
  thresholds: z.array(ThresholdResultSchema).default([]),
  metrics: z.array(MetricRowResultSchema).default([]),
  generator: z.object({
    saturated: z.boolean(),
    reasons: z.array(z.string()).default([]),
    figures: z.record(z.string(), z.union([Num, z.null()])).default({}),
  }),
  drills: z.array(DrillResultSchema).default([]),
  /** Every gateway's probe sampled through the run (plan §5). */
  probes: ProbeSummarySchema.optional(),
  /** What an HPA / KEDA ScaledObject decided over the run's series (`clawstorm scale replay`) or live. */
  autoscale: AutoscaleSectionSchema.optional(),
  /** This run judged against an earlier one (`gate --baseline`): per scenario and metric, the change, verdict and evidence. */
  baseline: BaselineSectionSchema.optional(),
  /** Where the run's events went: events.ndjson in the run folder, and a Faro receiver when one was named. */
  events: z
    .object({
      file: z.string(),
      written: Count,
      fileError: z.string().nullable().default(null),
      /** The receiver's origin only (its path may carry an app key), what it took and what was dropped. */
      receiver: z.object({ origin: z.string(), sent: Count, dropped: Count, failedPosts: Count, lastError: z.string().nullable() }).nullable().default(null),
    })
    .optional(),
  /** A distributed run: its runners, their segments and shares, who was missing or saturated (`gate --runners`, `judge`). */
  runners: RunnersSectionSchema.optional(),
  /** A canary ramp: steps, analysis measurements, the judge, the verdict (`clawstorm canary`). */
  canary: CanarySectionSchema.optional(),
});

export type Results = z.output<typeof ResultsSchema>;
export type ResultsInput = z.input<typeof ResultsSchema>;
export type ScenarioResult = z.output<typeof ScenarioResultSchema>;
export type ThresholdRecord = z.output<typeof ThresholdResultSchema>;
export type MetricRowRecord = z.output<typeof MetricRowResultSchema>;

// The schema and the scorer's types must stay interchangeable.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _thresholdsAgree: Same<ThresholdRecord, ThresholdResult> = true;
const _metricRowsAssignable: MetricRowResult extends MetricRowRecord ? true : false = true;
const _verdictsAgree: Same<z.output<typeof OverallVerdictSchema>, OverallVerdict> = true;
void _thresholdsAgree;
void _metricRowsAssignable;
void _verdictsAgree;

/** The five rows of the results template (plan §6), in order. */
export const TEMPLATE_SCENARIOS: readonly { name: string; title: string }[] = [
  { name: 'briefing-generation', title: 'Briefing Generation' },
  { name: 'policy-evaluation', title: 'Policy Evaluation' },
  { name: 'audit-write', title: 'Audit Write' },
  { name: 'connector-burst', title: 'Connector Burst' },
  { name: 'mixed-workload', title: 'Mixed Workload' },
];

/** Thresholds a baseline comparison adds to a scenario are named `baseline: <metric>`. */
export const BASELINE_THRESHOLD_PREFIX = 'baseline: ';

export class ResultsError extends Error {
  readonly exitCode = 2;
}

/** Validate a parsed results object; problems name the file and field. */
export function parseResults(json: unknown, file = 'results.json'): Results {
  const r = ResultsSchema.safeParse(json);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 10).map((i) => `${file}: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
  throw new ResultsError(lines.join('\n'));
}

export function readResults(file: string): Results {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ResultsError(`${file}: cannot read results (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseResults(json, file);
}

/** Validated, redacted JSON text (±Infinity as "+Inf"/"-Inf"), newline-terminated. */
export function serializeResults(results: ResultsInput): string {
  const checked = parseResults(results, 'results (in memory)');
  return `${JSON.stringify(redactDeep(checked), (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? '+Inf' : v === Number.NEGATIVE_INFINITY ? '-Inf' : v), 2)}\n`;
}

export function writeResults(file: string, results: ResultsInput): void {
  writeFileAtomic(file, serializeResults(results));
}


/**
 * A baseline lookup over a previous run: the observed value of the threshold with this name,
 * among one scenario's thresholds (`scenario` given) or the run-level ones.
 */
export function baselineLookup(baseline: Results, scenario?: string): BaselineLookup {
  const pool = scenario === undefined ? baseline.thresholds : (baseline.scenarios.find((s) => s.name === scenario)?.thresholds ?? []);
  return (name) => pool.find((t) => t.name === name)?.observed ?? null;
}
