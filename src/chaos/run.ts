// Running drills (and the storm) as a command or inside the gate against a bound target, and
// writing the reports — results.json, results.md, junit.xml, report.html — with a `drills` entry per
// drill and storm.
import path from 'node:path';
import { RESULTS_SCHEMA, type ResultsInput } from '../report/results.ts';
import { writeReports, type WrittenReports } from '../report/write.ts';
import { overallVerdict, type ExitCode } from '../score/verdict.ts';
import type { ThresholdResult } from '../score/types.ts';
import { runDrill, type DrillOutcome, type DrillResult } from './engine.ts';
import { resolveDrill, type OptionValue } from './schema.ts';
import type { ChaosTarget } from '../target/target.ts';
import { newRunId } from '../util/ids.ts';

export interface RunDrillsOptions {
  drills: string[];
  profile: string;
  set?: Record<string, OptionValue>;
  target: ChaosTarget;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Journal file of the (single) drill; several drills get one each in the journal dir. */
  journalFile?: string;
  onJournal?: (file: string) => void;
}

export interface DrillsOutcome {
  results: DrillResult[];
  outcomes: DrillOutcome[];
  aborted: boolean;
}

/** Run drills one after another (every file validated first); stops early on abort. */
export async function runDrills(opts: RunDrillsOptions): Promise<DrillsOutcome> {
  // The target's defaults for a drill (what it can carry) under the caller's --set.
  const setFor = (d: string): Record<string, OptionValue> => ({ ...(opts.target.profile.drills[path.basename(d, '.yaml')] ?? {}), ...(opts.set ?? {}) });
  const defs = opts.drills.map((d) => resolveDrill(d, { profile: opts.profile, set: setFor(d) }));
  for (const d of opts.drills) {
    const own = opts.target.profile.drills[path.basename(d, '.yaml')];
    if (own !== undefined) opts.log?.(`${path.basename(d, '.yaml')}: options from target profile ${opts.target.profile.name}: ${Object.entries(own).map(([k, v]) => `${k}=${String(v)}`).join(' ')}${opts.set && Object.keys(opts.set).length > 0 ? ' (--set goes over them)' : ''}`);
  }
  const outcomes: DrillOutcome[] = [];
  let aborted = false;
  for (const def of defs) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const o = await runDrill(def, {
      target: opts.target,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.journalFile !== undefined && defs.length === 1 ? { journalFile: opts.journalFile } : {}),
      ...(opts.onJournal ? { onJournal: opts.onJournal } : {}),
    });
    outcomes.push(o);
    if (o.aborted) {
      aborted = true;
      break;
    }
  }
  return { results: outcomes.map((o) => o.result), outcomes, aborted };
}

/** results.json & co. for a run of drills/storms alone (the five scenarios show as Not run). */
export function chaosResults(opts: { drills: DrillResult[]; profile: string; target: string; startedAt: Date; aborted: boolean; abortReason?: string }): { results: ResultsInput; exitCode: ExitCode } {
  const all: Array<Pick<ThresholdResult, 'verdict' | 'source' | 'name'>> = opts.drills.flatMap((d) => d.thresholds ?? []);
  const saturated = opts.drills.some((d) => d.figures?.generator_saturated === true);
  const v = overallVerdict({ thresholds: all, saturated, aborted: opts.aborted });
  const runId = newRunId();
  const results: ResultsInput = {
    schema: RESULTS_SCHEMA,
    runId,
    startedAt: opts.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    profile: opts.profile,
    target: opts.target,
    verdict: v.verdict,
    exitCode: v.exitCode,
    aborted: opts.aborted,
    ...(opts.aborted ? { abortReason: opts.abortReason ?? 'interrupted (SIGINT/SIGTERM): faults rolled back, partial results' } : {}),
    reasons: v.reasons,
    scenarios: [],
    thresholds: [],
    metrics: [],
    generator: { saturated, reasons: saturated ? ['the drill load generator could not keep its schedule'] : [], figures: {} },
    drills: opts.drills,
  };
  return { results, exitCode: v.exitCode };
}

export function writeChaosReports(outDir: string, results: ResultsInput): WrittenReports {
  return writeReports(outDir, results);
}
