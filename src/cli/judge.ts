// clawstorm judge --run <id> --runners N --results-dir D: one verdict over every runner of a
// distributed run (src/runners/judge.ts).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { resolveScenario } from '../config/scenario.ts';
import { ProfileError } from '../config/errors.ts';
import { GateError } from '../gate/gate.ts';
import { judgeRun } from '../runners/judge.ts';
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
  'wait-up-to': string;
  scenario?: string[];
  profile: string;
  target?: string;
  'testbed-state'?: string;
  out?: string;
  fill?: string;
}

async function judgeHandler(a: JudgeArgs): Promise<void> {
  if (a['from-prometheus']) {
    throw new CliError('judge --from-prometheus (a k6-operator run judged from its remote-written series) is not in this build; runners of `clawstorm run --shard` are judged with --results-dir', EXIT.usage);
  }
  if (a['results-dir'] === undefined) throw new CliError('judge: give --results-dir, where the runners write their results', EXIT.usage);
  if (a.target === undefined && a['testbed-state'] === undefined) throw new CliError('judge: give --target (or --testbed-state): the Prometheus and metrics the run is scored against', EXIT.usage);
  if (!Number.isInteger(a.runners) || a.runners < 1) throw new CliError(`judge: --runners ${a.runners}: a whole number ≥ 1`, EXIT.usage);
  let waitMs: number;
  try {
    waitMs = parseDuration(a['wait-up-to']);
  } catch (err) {
    throw new CliError(`judge: --wait-up-to ${a['wait-up-to']}: ${(err as Error).message}`, EXIT.usage);
  }
  const resultsDir = path.resolve(a['results-dir']);
  const ac = new AbortController();
  const onSig = (): void => {
    say('clawstorm: interrupted: judging what has been reported so far');
    ac.abort();
  };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    // The scenarios: as given, else what the first runner to report was asked to run, else the plan's five.
    const named = a.scenario ?? [];
    const fromRunners = named.length > 0 ? [] : (listRunnerFiles(resultsDir).map((f) => readRunnerFileOrUndefined(f)).find((f) => f !== undefined)?.planned ?? []);
    const names = named.length > 0 ? named : fromRunners.length > 0 ? fromRunners : TEMPLATE_SCENARIOS.map((s) => s.name);
    const files = names.map((n) => resolveScenario(n));
    const outcome = await withTarget({ targetFile: a.target, testbedStateDir: a['testbed-state'], bed: 'reuse-or-start', what: 'judge', chaos: false, log: say }, (bound) =>
      judgeRun({
        run: a.run,
        runners: a.runners,
        resultsDir,
        waitUpToMs: waitMs,
        signal: ac.signal,
        log: say,
        files,
        profile: a.profile,
        bound,
        sharedHost: bound.testbed !== undefined,
        outDir: path.resolve(a.out ?? path.join('reports', 'runs', timeStamp())),
        ...(a.fill !== undefined ? { fill: a.fill } : {}),
      }),
    );
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
      .option('from-prometheus', { type: 'boolean', describe: 'judge a k6-operator run from its remote-written series (not in this build)' })
      .option('wait-up-to', { type: 'string', default: '10m', alias: 'timeout', describe: 'longest to wait for the last runner; a runner not reported by then is missing' })
      .option('scenario', { type: 'string', array: true, describe: 'scenario names or files (pass criteria)', defaultDescription: 'what the runners ran' })
      .option('profile', { type: 'string', default: 'smoke', describe: 'the load profile the runners ran' })
      .option('target', { type: 'string', describe: 'target profile YAML (its Prometheus and metrics rows)' })
      .option('testbed-state', { type: 'string', describe: 'a running local test bed (its state dir) as the target' })
      .option('out', { type: 'string', describe: 'directory for results.json, results.md, junit.xml, report.html', defaultDescription: 'reports/runs/<time>' })
      .option('fill', { type: 'string', describe: "the team's Markdown file whose results table is filled in place" }) as Argv<JudgeArgs>,
  handler: judgeHandler,
};
