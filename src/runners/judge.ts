// `clawstorm judge`: one verdict over every runner of a distributed run. It waits (bounded) for
// each runner's result file, merges the runners' histograms and counts per scenario exactly,
// scores the client thresholds on the merged numbers and the PromQL thresholds and metrics rows
// once over the whole window, and writes one report. A runner that never reported is named and
// the run cannot pass (exit 3); a saturated runner is named and the client thresholds of the
// scenarios it measured are inconclusive, as a saturated single generator's would be.
import { scrapeIntervalSeconds } from '../config/profile.ts';
import type { ScenarioFile } from '../config/scenario.ts';
import { concludeRun, GateError, type GateOutcome } from '../gate/gate.ts';
import { scoreScenario, type ScenarioMeasurement } from '../gate/scenario-run.ts';
import { evenSequence, segmentString, sequenceString } from '../load/segment.ts';
import type { ProbeSummary } from '../probe/judge.ts';
import { scenarioLine, thresholdLine } from '../report/console.ts';
import type { ScenarioResult } from '../report/results.ts';
import type { RunnersSectionInput } from '../report/runners-schema.ts';
import { promClientOf, type BoundTarget } from '../target/bind.ts';
import { formatDuration } from '../util/duration.ts';
import { sleep } from '../util/sleep.ts';
import { listRunnerFiles, measurementsOf, readRunnerFile, RunnerFileError, type RunnerFile } from './file.ts';
import { mergeMeasurements, type RunnerMeasurement } from './merge.ts';

export interface CollectOptions {
  run: string;
  runners: number;
  resultsDir: string;
  /** Longest to wait for the last runner. */
  waitUpToMs: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /**
   * Whether runner i (1-based) may still report (a local runner process still running). A runner
   * that can no longer report is missing at once instead of at the deadline.
   */
  mayStillReport?: (index: number) => boolean;
  pollMs?: number;
  progressEveryMs?: number;
}

export interface Collected {
  /** By runner index (1-based). */
  files: Map<number, RunnerFile>;
  /** Runner files that could not be used, with why (a torn or foreign file). */
  rejected: string[];
  /** Why waiting stopped before every runner reported, if it did. */
  gaveUp: string | undefined;
}

/** The segment runner i of n runs (`--shard i/n`). */
export function segmentOf(i: number, n: number): string {
  return segmentString(evenSequence(n)[i - 1] as NonNullable<ReturnType<typeof evenSequence>[number]>);
}

/** Wait until every runner's file is there, the deadline passes, or waiting is called off. */
export async function collectRunnerFiles(o: CollectOptions): Promise<Collected> {
  const expectedSequence = sequenceString(evenSequence(o.runners));
  const files = new Map<number, RunnerFile>();
  const rejected = new Map<string, string>();
  const seen = new Set<string>();
  const deadline = Date.now() + o.waitUpToMs;
  const pollMs = o.pollMs ?? 500;
  const every = o.progressEveryMs ?? 5_000;
  let lastLine = 0;
  const missing = (): number[] => Array.from({ length: o.runners }, (_, i) => i + 1).filter((i) => !files.has(i));
  for (;;) {
    for (const path of listRunnerFiles(o.resultsDir)) {
      if (rejected.has(path) || seen.has(path)) continue;
      let f: RunnerFile;
      try {
        f = readRunnerFile(path);
      } catch (err) {
        // Written atomically, so a file that does not parse is not one being written: it is bad.
        rejected.set(path, err instanceof RunnerFileError ? err.message : String(err));
        continue;
      }
      if (f.run !== o.run) {
        rejected.set(path, `${path}: belongs to run ${f.run}, not ${o.run}`);
        continue;
      }
      if (f.sequence !== expectedSequence || f.index > o.runners) {
        throw new GateError(`${path}: runner ${f.runner} ran segment ${f.segment} of ${f.sequence}, but the run has ${o.runners} runners (${expectedSequence})`, 2);
      }
      const prior = files.get(f.index);
      if (prior !== undefined && prior.runner !== f.runner) {
        throw new GateError(`${path}: runner ${f.runner} and runner ${prior.runner} both ran segment ${f.segment}: their share of the load was offered twice`, 2);
      }
      seen.add(path);
      files.set(f.index, f);
    }
    const left = missing();
    if (left.length === 0) return { files, rejected: [...rejected.values()], gaveUp: undefined };
    const names = left.map((i) => `${i}/${o.runners}`).join(', ');
    if (o.signal.aborted) return { files, rejected: [...rejected.values()], gaveUp: 'the judge was interrupted' };
    if (o.mayStillReport !== undefined && left.every((i) => !o.mayStillReport?.(i))) {
      return { files, rejected: [...rejected.values()], gaveUp: 'they exited without writing results' };
    }
    const now = Date.now();
    if (now >= deadline) return { files, rejected: [...rejected.values()], gaveUp: `no results within ${formatDuration(o.waitUpToMs)}` };
    if (now - lastLine >= every) {
      lastLine = now;
      o.log(`judge: ${files.size}/${o.runners} runners reported; waiting for ${names} (at most ${Math.ceil((deadline - now) / 1000)} s more)`);
    }
    await sleep(Math.min(pollMs, deadline - now), o.signal);
  }
}

export interface JudgeOptions {
  run: string;
  runners: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Where the runners' measurements come from: their files (collectRunnerFiles) or a k6 run's series (readK6Run). */
  collect: () => Promise<Collected>;
  /** The scenarios to judge; default every scenario the first reporting runner was asked to run. */
  files: ScenarioFile[];
  profile: string;
  bound: BoundTarget;
  /** The runners shared the machine with the fleet (a local bed): a busy host makes latency failures inconclusive. */
  sharedHost: boolean;
  outDir: string;
  fill?: string;
  /** Every gateway's probe over the run, when the caller sampled it; called once the runners have reported. */
  probes?: () => Promise<ProbeSummary>;
  /** What the run proves, printed and kept in the report (one machine: the protocol, not capacity). */
  note?: string;
}

export function runnerName(f: Pick<RunnerFile, 'index' | 'runner'>, n: number): string {
  return `runner ${f.index}/${n} (${f.runner})`;
}

/** Collect, merge, score, conclude: the run's one verdict and report. */
export async function judgeRun(o: JudgeOptions): Promise<GateOutcome> {
  const prom = promClientOf(o.bound);
  if (prom === undefined) throw new GateError(`${o.bound.profile.file}: prometheus.url: required to judge a run`, 2);
  const scrape = scrapeIntervalSeconds(o.bound.profile);
  const got = await o.collect();
  const probes = o.probes === undefined ? undefined : await o.probes();
  for (const r of got.rejected) o.log(`judge: ignored ${r}`);
  const n = o.runners;
  const reported = [...got.files.values()].sort((a, b) => a.index - b.index);
  const missingIdx = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !got.files.has(i));
  const incomplete: string[] = [];
  for (const i of missingIdx) incomplete.push(`runner ${i}/${n} (segment ${segmentOf(i, n)}) missing: ${got.gaveUp ?? 'no result file'}; its share of the load was not measured`);
  for (const f of reported) if (!f.complete) incomplete.push(`${runnerName(f, n)} stopped early: ${f.problem ?? 'not every scenario was measured'}`);
  for (const line of incomplete) o.log(`judge: ${line}`);
  o.log(`judge: ${reported.length}/${n} runners reported${reported.length > 0 ? ` (${reported.map((f) => runnerName(f, n)).join(', ')})` : ''}`);

  const scenarios: ScenarioResult[] = [];
  const saturation: string[] = [];
  let saturated = false;
  for (const file of o.files) {
    const parts: RunnerMeasurement[] = [];
    for (const f of reported) {
      const m = measurementsOf(f).find((x) => x.name === file.name);
      if (m !== undefined) parts.push({ who: runnerName(f, n), m });
    }
    if (parts.length === 0) continue; // stays "Not run"
    const merged: ScenarioMeasurement = mergeMeasurements(file.name, parts);
    const hot = parts.filter((p) => p.m.monitor.saturated).map((p) => p.who);
    const out = await scoreScenario(file, merged, {
      prom,
      scrapeIntervalSeconds: scrape,
      sharedHost: o.sharedHost,
      ...(hot.length > 0 ? { saturatedWho: `load generator saturated on ${hot.join(', ')}` } : {}),
    });
    const r = out.result;
    r.extra.iterations_planned = merged.executor.planned ?? null;
    r.extra.iterations_started = merged.executor.started;
    r.extra.runners_measured = parts.length;
    // A scenario measured without every runner's share cannot pass.
    const short = [...missingIdx.map((i) => `runner ${i}/${n} missing`), ...reported.filter((f) => !f.complete && !parts.some((p) => p.who === runnerName(f, n))).map((f) => `${runnerName(f, n)} did not measure it`)];
    if (short.length > 0 && (r.status === 'Pass' || r.status === 'No data')) {
      r.status = 'Inconclusive';
      r.reasons.push(`${short.join(', ')}: part of the planned load was not measured`);
    }
    if (out.saturated) {
      saturated = true;
      saturation.push(...out.saturationReasons.map((x) => `${file.name}: ${x}`));
    }
    o.log(scenarioLine(r));
    for (const t of r.thresholds) o.log(thresholdLine(t));
    scenarios.push(r);
  }

  const starts = reported.map((f) => Date.parse(f.startedAt));
  const ends = reported.map((f) => Date.parse(f.endedAt));
  const now = Date.now();
  const section: RunnersSectionInput = {
    expected: n,
    sequence: sequenceString(evenSequence(n)),
    runners: Array.from({ length: n }, (_, k) => {
      const i = k + 1;
      const f = got.files.get(i);
      if (f === undefined) return { index: i, id: null, segment: segmentOf(i, n), state: 'missing' as const, saturated: false, reasons: [got.gaveUp ?? 'no result file'] };
      const hotReasons = f.scenarios.flatMap((m) => m.monitor.reasons.map((r) => `${m.name}: ${r}`));
      return {
        index: i,
        id: f.runner,
        segment: f.segment,
        state: f.complete ? ('reported' as const) : ('incomplete' as const),
        saturated: f.scenarios.some((m) => m.monitor.saturated),
        reasons: [...(f.complete ? [] : [f.problem ?? 'stopped early']), ...hotReasons],
        host: f.host,
      };
    }),
    scenarios: o.files
      .map((file) => ({
        name: file.name,
        runners: reported.flatMap((f) => {
          const m = f.scenarios.find((x) => x.name === file.name);
          if (m === undefined) return [];
          return [
            {
              index: f.index,
              planned: m.executor.planned ?? null,
              started: m.executor.started,
              dropped: m.executor.dropped,
              interrupted: m.executor.interrupted,
              requests: m.summary?.count ?? 0,
              errors: m.summary?.errors ?? 0,
              p95: m.summary !== undefined && m.summary.latencySamples > 0 ? m.summary.p95Ms : null,
            },
          ];
        }),
      }))
      .filter((s) => s.runners.length > 0),
    ...(o.note !== undefined ? { note: o.note } : {}),
  };
  return concludeRun({
    runId: o.run,
    profileName: o.profile,
    target: o.bound.profile,
    prom,
    scrapeIntervalSeconds: scrape,
    files: o.files,
    scenarios,
    startedAt: new Date(starts.length > 0 ? Math.min(...starts) : now),
    endedAt: new Date(ends.length > 0 ? Math.max(...ends) : now),
    probes,
    saturated,
    saturation,
    aborted: o.signal.aborted || reported.some((f) => !f.complete && /interrupt|abort/i.test(f.problem ?? '')),
    incomplete,
    signal: o.signal,
    outDir: o.outDir,
    ...(o.fill !== undefined ? { fill: o.fill } : {}),
    log: o.log,
    extra: { runners: section },
  });
}
