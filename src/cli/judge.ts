// clawstorm judge --run <id> --runners N --results-dir D: one verdict over every runner of a
// distributed run (src/runners/judge.ts).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { resolveScenario } from '../config/scenario.ts';
import { ProfileError } from '../config/errors.ts';
import { GateError } from '../gate/gate.ts';
import { collectRunnerFiles, judgeRun } from '../runners/judge.ts';
import { readK6Run } from '../runners/k6-run.ts';
import { releaseWhenReady } from '../runners/barrier.ts';
import { promClientOf } from '../target/bind.ts';
import { listRunnerFiles, readRunnerFile } from '../runners/file.ts';
import { TEMPLATE_SCENARIOS } from '../report/results.ts';
import { exitCodeForError } from '../score/verdict.ts';
import { withTarget } from '../target/with-target.ts';
import { parseDuration } from '../util/duration.ts';
import { timeStamp } from '../util/ids.ts';
import { CliError, EXIT } from './errors.ts';
import { say } from './output.ts';

interface JudgeArgs {
  run: string;
  runners: number;
  'results-dir'?: string;
  'from-prometheus'?: boolean;
  lookback: string;
  'release-barrier'?: string;
  'ready-within': string;
  'wait-up-to': string;
  scenario?: string[];
  profile: string;
  target?: string;
  'testbed-state'?: string;
  out?: string;
  fill?: string;
}

async function judgeHandler(a: JudgeArgs): Promise<void> {
  const fromProm = a['from-prometheus'] === true;
  if (fromProm && a['results-dir'] !== undefined) throw new CliError('judge: --from-prometheus or --results-dir, not both: a run is judged from its runners’ files or from its k6 series', EXIT.usage);
  if (!fromProm && a['results-dir'] === undefined) throw new CliError('judge: give --results-dir, where the runners write their results (or --from-prometheus for a k6 run)', EXIT.usage);
  if (a.target === undefined && a['testbed-state'] === undefined) throw new CliError('judge: give --target (or --testbed-state): the Prometheus and metrics the run is scored against', EXIT.usage);
  if (!Number.isInteger(a.runners) || a.runners < 1) throw new CliError(`judge: --runners ${a.runners}: a whole number ≥ 1`, EXIT.usage);
  let waitMs: number;
  try {
    waitMs = parseDuration(a['wait-up-to']);
  } catch (err) {
    throw new CliError(`judge: --wait-up-to ${a['wait-up-to']}: ${(err as Error).message}`, EXIT.usage);
  }
  let lookbackS: number;
  try {
    lookbackS = parseDuration(a.lookback) / 1000;
  } catch (err) {
    throw new CliError(`judge: --lookback ${a.lookback}: ${(err as Error).message}`, EXIT.usage);
  }
  const resultsDir = a['results-dir'] === undefined ? undefined : path.resolve(a['results-dir']);
  const releaseFile = a['release-barrier'];
  if (releaseFile !== undefined && resultsDir === undefined) throw new CliError('judge: --release-barrier needs --results-dir (where the runners mark themselves ready)', EXIT.usage);
  let readyMs: number;
  try {
    readyMs = parseDuration(a['ready-within']);
  } catch (err) {
    throw new CliError(`judge: --ready-within ${a['ready-within']}: ${(err as Error).message}`, EXIT.usage);
  }
  const ac = new AbortController();
  const onSig = (): void => {
    say('clawstorm: interrupted: judging what has been reported so far');
    ac.abort();
  };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    const outcome = await withTarget({ targetFile: a.target, testbedStateDir: a['testbed-state'], bed: 'reuse-or-start', what: 'judge', chaos: false, log: say }, async (bound) => {
      const common = {
        run: a.run,
        runners: a.runners,
        signal: ac.signal,
        log: say,
        profile: a.profile,
        bound,
        sharedHost: bound.testbed !== undefined,
        outDir: path.resolve(a.out ?? path.join('reports', 'runs', timeStamp())),
        ...(a.fill !== undefined ? { fill: a.fill } : {}),
      };
      if (resultsDir === undefined) {
        const prom = promClientOf(bound);
        if (prom === undefined) throw new CliError(`judge --from-prometheus: ${bound.profile.file}: prometheus.url: the run's series are read from it`, EXIT.usage);
        const read = await readK6Run({ prom, run: a.run, runners: a.runners, lookbackS, profile: a.profile, target: bound.profile.file, ...(a.scenario ? { scenarios: a.scenario.map((n) => resolveScenario(n).name) } : {}) });
        // Without --scenario, the scenarios are those the run's series name.
        const names = a.scenario ?? read.scenarios;
        if (names.length === 0) throw new CliError(`judge --from-prometheus: no k6 series with testrun_name=${JSON.stringify(a.run)} in ${prom.url} over the last ${a.lookback}: nothing to judge`, EXIT.inconclusive);
        const files = names.map((n) => resolveScenario(n));
        say(`judge: ${read.files.size}/${a.runners} k6 runners found in Prometheus; percentiles from their merged native histograms${read.bucketWidth > 0 ? ` (buckets up to ${(read.bucketWidth * 100).toFixed(1)} % wide: a percentile is within that of the true one)` : ''}`);
        return judgeRun({ ...common, files, collect: async () => read, note: k6Note(read.bucketWidth) });
      }
      // The scenarios: as given, else what the first runner to report was asked to run, else the plan's five.
      const named = a.scenario ?? [];
      const fromRunners = named.length > 0 ? [] : (listRunnerFiles(resultsDir).map((f) => readRunnerFileOrUndefined(f)).find((f) => f !== undefined)?.planned ?? []);
      const names = named.length > 0 ? named : fromRunners.length > 0 ? fromRunners : TEMPLATE_SCENARIOS.map((s) => s.name);
      const files = names.map((n) => resolveScenario(n));
      return judgeRun({
        ...common,
        files,
        collect: async () => {
          if (releaseFile !== undefined) {
            const ids = Array.from({ length: a.runners }, (_, k) => `${a.run}-${k + 1}`);
            await releaseWhenReady({ resultsDir, runnerIds: ids, file: path.resolve(releaseFile), timeoutMs: readyMs, signal: ac.signal, log: say });
          }
          return collectRunnerFiles({ run: a.run, runners: a.runners, resultsDir, waitUpToMs: waitMs, signal: ac.signal, log: say });
        },
      });
    });
    process.exitCode = outcome.exitCode;
  } catch (err) {
    if (err instanceof GateError || err instanceof ProfileError) throw new CliError(err.message, err.exitCode);
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, exitCodeForError(err));
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/** What a verdict over k6's series cannot say, kept in the report. */
export function k6Note(bucketWidth: number): string {
  return [
    'k6 runners judged from their remote-written series',
    `percentiles from merged native histograms${bucketWidth > 0 ? ` (within ${(bucketWidth * 100).toFixed(1)} %, the widest bucket)` : ''}`,
    'k6 reports no planned starts, interrupted iterations or generator saturation over remote write: check the runners’ logs for its "insufficient VUs" and CPU warnings',
  ].join('; ');
}

function readRunnerFileOrUndefined(f: string): ReturnType<typeof readRunnerFile> | undefined {
  try {
    return readRunnerFile(f);
  } catch {
    return undefined;
  }
}

export const judgeCommand: CommandModule<object, JudgeArgs> = {
  command: 'judge',
  describe: 'one verdict over every runner of a distributed run: wait for each runner’s results, merge histograms and counts exactly, score once, write one report; a missing runner → exit 3',
  builder: (y: Argv) =>
    y
      .option('run', { type: 'string', demandOption: true, describe: 'the run id the runners share' })
      .option('runners', { type: 'number', demandOption: true, describe: 'runners the run was planned with (segments i/N)' })
      .option('results-dir', { type: 'string', describe: 'where every runner writes its result file' })
      .option('from-prometheus', { type: 'boolean', describe: 'judge a k6 run (k6-operator TestRun) from the series its runners remote-wrote to the target’s Prometheus, found by testrun_name = --run' })
      .option('release-barrier', { type: 'string', describe: 'be the runners’ starter: wait for every runner’s ready mark in --results-dir, then release this start-barrier file (runners started with --barrier FILE, e.g. pods of an Indexed Job)' })
      .option('ready-within', { type: 'string', default: '100s', describe: 'with --release-barrier: longest to wait for the last ready runner (keep it under the runners’ 120 s at the barrier); the others are released without it' })
      .option('lookback', { type: 'string', default: '6h', describe: 'with --from-prometheus: how far back the run’s series are looked for' })
      .option('wait-up-to', { type: 'string', default: '10m', alias: 'timeout', describe: 'longest to wait for the last runner; a runner not reported by then is missing' })
      .option('scenario', { type: 'string', array: true, describe: 'scenario names or files (pass criteria)', defaultDescription: 'what the runners ran' })
      .option('profile', { type: 'string', default: 'smoke', describe: 'the load profile the runners ran' })
      .option('target', { type: 'string', describe: 'target profile YAML (its Prometheus and metrics rows)' })
      .option('testbed-state', { type: 'string', describe: 'a running local test bed (its state dir) as the target' })
      .option('out', { type: 'string', describe: 'directory for results.json, results.md, junit.xml, report.html', defaultDescription: 'reports/runs/<time>' })
      .option('fill', { type: 'string', describe: "the team's Markdown file whose results table is filled in place" }) as Argv<JudgeArgs>,
  handler: judgeHandler,
};
