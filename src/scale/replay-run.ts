// `clawstorm scale replay`: the user's HPA or ScaledObject over the series of a run's window (or
// any window), optionally compared decision by decision with a test bed's live controller, written
// as results.json (with the `autoscale` section), results.md, junit.xml and report.html, plus
// `syncs.jsonl`: every sync's Prometheus answers, input and decision.
import fs from 'node:fs';
import path from 'node:path';
import { hpaForScaledObject } from '../autoscale/keda/keda.ts';
import { ManifestError } from '../autoscale/manifest.ts';
import { PromClient, PromError } from '../prom/client.ts';
import { readResults } from '../report/results.ts';
import { writeReports, type WrittenReports } from '../report/write.ts';
import { newRunId } from '../util/ids.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { diffDecisions, type DecisionDiff } from './diff.ts';
import { readLog, type AutoscaleLog } from './log.ts';
import { queryAtClient, type QueryAt } from './observe.ts';
import { buildPlan, PlanError, type PlanOptions } from './plan.ts';
import { replay, type ReplayStep } from './replay.ts';
import { autoscaleResults, autoscaleSection, autoscaleThresholds } from './results.ts';
import { loadAutoscaler } from './source.ts';
import type { ResultsInput } from '../report/results.ts';
import type { HpaControllerOptions } from '../autoscale/hpa/types.ts';

export class ReplayError extends Error {
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3) {
    super(message);
    this.name = 'ReplayError';
    this.exitCode = exitCode;
  }
}

export interface ReplayRunOptions {
  file: string;
  expect?: 'hpa' | 'keda';
  /** Unix seconds; absent: the run's window, else the live log's. */
  from?: number;
  to?: number;
  /** A run's report directory (its results.json gives the window). */
  runDir?: string;
  prometheusUrl: string;
  /** Default: the live log's, else 15 s (the HPA's). */
  syncPeriodSeconds?: number;
  plan?: PlanOptions;
  /** Other kube-controller-manager flags (tolerance, downscale stabilisation). */
  controller?: Partial<Omit<HpaControllerOptions, 'syncPeriodSeconds'>>;
  /** A live autoscaler's log (autoscale/log.jsonl of a test bed) to compare with. */
  liveLog?: string;
  maxLagSeconds?: number;
  outDir: string;
  /** For tests: answer queries without a Prometheus. */
  query?: QueryAt;
  log?: (line: string) => void;
}

export interface ReplayRunOutcome {
  results: ResultsInput;
  reports: WrittenReports;
  steps: ReplayStep[];
  diff: DecisionDiff | null;
  exitCode: 0 | 1 | 3;
}

function readRunWindow(runDir: string): { from: number; to: number; id: string } {
  const file = path.join(runDir, 'results.json');
  if (!fs.existsSync(file)) throw new ReplayError(`${file}: no results.json in the run directory`, 2);
  try {
    const r = readResults(file);
    return { from: Date.parse(r.startedAt) / 1000, to: Date.parse(r.endedAt) / 1000, id: r.runId };
  } catch (err) {
    throw new ReplayError((err as Error).message, 2);
  }
}

function readLiveLog(file: string): AutoscaleLog {
  if (!fs.existsSync(file)) throw new ReplayError(`${file}: no live autoscaler log (start the bed with testbed up --autoscale)`, 2);
  const log = readLog(file);
  if (log.header === null) throw new ReplayError(`${file}: no header line; not an autoscaler log`, 2);
  return log;
}

export async function runReplay(o: ReplayRunOptions): Promise<ReplayRunOutcome> {
  const say = o.log ?? (() => {});
  let loaded;
  let plan;
  try {
    loaded = loadAutoscaler(o.file, o.expect);
    plan = buildPlan(loaded.source, o.file, o.plan);
  } catch (err) {
    if (err instanceof ManifestError || err instanceof PlanError) throw new ReplayError(err.message, 2);
    throw err;
  }
  const live = o.liveLog === undefined ? null : readLiveLog(o.liveLog);
  const run = o.runDir === undefined ? null : readRunWindow(o.runDir);
  const liveSyncs = live?.syncs ?? [];
  const from = o.from ?? run?.from ?? liveSyncs[0]?.time;
  const to = o.to ?? run?.to ?? liveSyncs[liveSyncs.length - 1]?.time;
  if (from === undefined || to === undefined) throw new ReplayError('no window: give --run DIR, or --from and --to (or --compare-live with a log that has syncs)', 2);
  if (!(to >= from)) throw new ReplayError(`--to (${new Date(to * 1000).toISOString()}) is before --from (${new Date(from * 1000).toISOString()})`, 2);
  const syncPeriodSeconds = o.syncPeriodSeconds ?? live?.header?.syncPeriodSeconds ?? 15;
  if (!Number.isInteger(syncPeriodSeconds) || syncPeriodSeconds < 1) throw new ReplayError(`--sync-period: must be whole seconds ≥ 1 (got ${syncPeriodSeconds})`, 2);

  const query = o.query ?? queryAtClient(new PromClient({ url: o.prometheusUrl, timeoutMs: 10_000 }));
  const startedAt = new Date();
  let steps: ReplayStep[];
  try {
    say(`replaying ${loaded.source.kind === 'hpa' ? 'HPA' : 'ScaledObject'} ${loaded.name} over ${new Date(from * 1000).toISOString()} → ${new Date(to * 1000).toISOString()} every ${syncPeriodSeconds} s`);
    steps = await replay({ source: loaded.source, plan, controller: { hpa: { ...o.controller }, guardrails: plan.guardrails.config }, from, to, syncPeriodSeconds }, query);
  } catch (err) {
    if (err instanceof PromError) throw new ReplayError(`${err.message} (no data: Prometheus could not answer)`, 3);
    throw err;
  }
  const hpa = loaded.source.kind === 'hpa' ? loaded.source.hpa : hpaForScaledObject(loaded.source.scaledObject);
  const diff =
    live === null
      ? null
      : diffDecisions(
          live.syncs.map((s) => ({ time: s.time, answers: s.answers, input: s.input, decision: s.decision })),
          steps.map((s) => ({ time: s.time, answers: s.observation.answers, input: s.observation.input, decision: s.decision })),
          { from, to },
        );
  const section = autoscaleSection({
    mode: 'replay',
    loaded,
    hpa,
    plan,
    steps,
    syncPeriodSeconds,
    from,
    to,
    prometheus: o.prometheusUrl,
    run: run === null ? null : { id: run.id, dir: o.runDir! },
    liveDiff: diff === null ? null : { log: o.liveLog!, diff },
    actuations: live?.actuations.filter((a) => a.at >= from && a.at <= to + syncPeriodSeconds) ?? [],
  });
  const thresholds = autoscaleThresholds(section, steps, o.maxLagSeconds === undefined ? {} : { maxLagSeconds: o.maxLagSeconds });
  const results = autoscaleResults({ runId: newRunId('scale'), startedAt, endedAt: new Date(), target: o.prometheusUrl, section, thresholds });
  fs.mkdirSync(o.outDir, { recursive: true });
  const reports = writeReports(o.outDir, results);
  writeFileAtomic(
    path.join(o.outDir, 'syncs.jsonl'),
    steps.map((s) => JSON.stringify({ time: s.time, answers: s.observation.answers, input: s.observation.input, decision: s.decision, corrected: s.corrected, gaps: s.observation.gaps })).join('\n') + '\n',
  );
  return { results, reports, steps, diff, exitCode: results.exitCode as 0 | 1 | 3 };
}
