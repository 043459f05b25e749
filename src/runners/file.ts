// The runner result file: what one sharded runner measured, for the judge. It carries only what
// adds up exactly over runners — HDR histograms and counts per scenario and per tag set — plus the
// runner's identity (run, id, segment) and whether its generator was saturated. Percentiles are
// never shipped for merging: the judge computes them from the merged histograms.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ScenarioMeasurement } from '../gate/scenario-run.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const RUNNER_SCHEMA = 'clawstorm.runner/v1';
/** Every runner file ends so; the judge reads every such file of the results directory. */
export const RUNNER_SUFFIX = '.runner.json';

const Count = z.number().int().min(0);
const Ms = z.number().min(0);
const MsOrNull = Ms.nullable();

const GroupSchema = z.object({
  count: Count,
  errors: Count,
  errorRate: z.number().min(0).max(1),
  errorRateOf: z.literal('requests'),
  latencySamples: Count,
  latencyFrom: z.enum(['intended-start', 'actual-send', 'mixed', 'none']),
  clampedSamples: Count,
  histogram: z.string(),
  minMs: Ms,
  p50Ms: Ms,
  p90Ms: Ms,
  p95Ms: Ms,
  p99Ms: Ms,
  maxMs: Ms,
  meanMs: Ms,
});

const TagSetSchema = GroupSchema.extend({
  tags: z.object({ scenario: z.string(), step: z.string(), method: z.string(), status_class: z.enum(['2xx', '3xx', '4xx', '5xx', 'error']) }),
});

const ScenarioSummarySchema = GroupSchema.extend({
  scenario: z.string(),
  completed: Count,
  failed: Count,
  interrupted: Count,
  dropped: Count,
  errorMessages: z.array(z.object({ message: z.string(), count: Count })),
});

const MonitorSchema = z.object({
  saturated: z.boolean(),
  reasons: z.array(z.string()),
  eventLoopP99Ms: Ms,
  eventLoopMaxMs: Ms,
  cpuPct: z.number().min(0),
  cpuPctMax: z.number().min(0),
  hostCpuPct: z.number().nullable(),
  generatorHostSharePct: z.number().nullable(),
  hostStealPct: z.number().nullable(),
  pacerLagP99Ms: z.number().nullable(),
  pacerLagMaxMs: z.number().nullable(),
  watchedMs: Ms,
});

export const MeasurementSchema = z.object({
  name: z.string().min(1),
  startedAt: z.number(),
  endedAt: z.number(),
  aborted: z.boolean(),
  summary: ScenarioSummarySchema.optional(),
  tagSets: z.array(TagSetSchema),
  executor: z.object({
    planned: Count.optional(),
    started: Count,
    completed: Count,
    failed: Count,
    interrupted: Count,
    dropped: Count,
    peakVus: Count,
    setupFailures: Count,
    watchdogFired: z.boolean(),
  }),
  series: z.array(z.object({ t: z.number(), count: Count, errors: Count, p50: MsOrNull, p95: MsOrNull, p99: MsOrNull, max: MsOrNull, histogram: z.string().optional() })),
  monitor: MonitorSchema,
  audit: z.object({ acknowledged: Count, found: Count, dropped: Count, via: z.enum(['sql', 'api']), incomplete: z.string().optional() }).optional(),
});

export const RunnerFileSchema = z.object({
  schema: z.literal(RUNNER_SCHEMA),
  /** The run all runners share (also the prefix of every request id they send). */
  run: z.string().min(1),
  runner: z.string().min(1),
  /** 1-based position of the segment in the sequence. */
  index: z.number().int().min(1),
  segment: z.string(),
  sequence: z.string(),
  profile: z.string(),
  target: z.string(),
  host: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
  endedAt: z.iso.datetime({ offset: true }),
  /** Scenarios the runner was asked to run, in order. */
  planned: z.array(z.string()),
  /** False when the runner stopped before every planned scenario was measured (abort, error). */
  complete: z.boolean(),
  /** Why it is incomplete. */
  problem: z.string().optional(),
  scenarios: z.array(MeasurementSchema),
});

export type RunnerFile = z.output<typeof RunnerFileSchema>;

/** A runner file's measurements as the scorer takes them (optional fields made explicit). */
export function measurementsOf(f: RunnerFile): ScenarioMeasurement[] {
  return f.scenarios.map((m) => ({ ...m, summary: m.summary, executor: { ...m.executor, planned: m.executor.planned }, audit: m.audit }));
}

export function runnerFilePath(dir: string, runnerId: string): string {
  return path.join(dir, `${runnerId.replace(/[^A-Za-z0-9_.-]/g, '_')}${RUNNER_SUFFIX}`);
}

export class RunnerFileError extends Error {}

/** Written atomically: the judge never sees half a file. */
export function writeRunnerFile(dir: string, f: RunnerFile): string {
  const checked = RunnerFileSchema.parse(f);
  const file = runnerFilePath(dir, f.runner);
  fs.mkdirSync(dir, { recursive: true });
  // JSON drops `undefined` fields, which is what the schema's optional fields expect.
  writeFileAtomic(file, `${JSON.stringify(checked)}\n`);
  return file;
}

export function readRunnerFile(file: string): RunnerFile {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RunnerFileError(`${file}: cannot read runner results (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const r = RunnerFileSchema.safeParse(json);
  if (!r.success) {
    throw new RunnerFileError(`${file}: ${r.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** Every runner file in `dir` (none when it does not exist yet). */
export function listRunnerFiles(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(RUNNER_SUFFIX))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}
