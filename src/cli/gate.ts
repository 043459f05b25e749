// clawstorm gate | run <scenario…> | report fill
import { say } from './output.ts';
import { redact } from '../util/redact.ts';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { runGate, fillTeamFile, GateError, type GateOptions } from '../gate/gate.ts';
import type { EngineProgress } from '../load/engine.ts';
import { readResults } from '../report/results.ts';
import { exitCodeForError } from '../score/verdict.ts';
import { ProfileError } from '../config/errors.ts';
import { listScenarios } from '../config/scenario.ts';
import { CliError, EXIT } from './errors.ts';
import { timeStamp } from '../util/ids.ts';
import { trendsCommand } from './trends.ts';
import { ExecutionTuple, parseShard, SegmentError } from '../load/segment.ts';
import { runLocalRunners } from '../runners/local.ts';
import { runShard } from '../runners/runner.ts';


interface GateArgs {
  profile: string;
  target?: string;
  out?: string;
  fill?: string;
  replicas: number;
  'testbed-state'?: string;
  scenarios?: string[];
  'with-drills'?: boolean;
  baseline?: string;
  index: string;
  'faro-url'?: string;
  runners?: number;
  shard?: string;
  segment?: string;
  'segment-sequence'?: string;
  'runner-id'?: string;
  'results-dir'?: string;
  run?: string;
  barrier?: string;
  'remote-write'?: string;
}

function defaultOutDir(): string {
  return path.resolve('reports', 'runs', timeStamp());
}

/** Live progress: one line per scenario on a terminal, a plain line every 5 s in CI or a pipe. */
function progressReporter(): { onProgress: (scenario: string, p: EngineProgress) => void; log: (line: string) => void; stop: () => void } {
  const interactive = process.stderr.isTTY === true && process.env.CI !== 'true';
  if (!interactive) {
    let last = 0;
    return {
      onProgress: (scenario, p) => {
        const now = Date.now();
        if (now - last < 5_000) return;
        last = now;
        const s = p.scenarios.find((x) => x.name === scenario);
        if (s) say(`${scenario}: ${(s.elapsedMs / 1000).toFixed(0)} s, ${s.requests} requests, ${s.errors} errors, p95 ${s.p95Ms === null ? '--' : `${s.p95Ms.toFixed(1)} ms`}, ${s.activeVus} VUs`);
      },
      log: say,
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      // No bar: a scenario's end is a duration or a count depending on its executor; the line
      // says where it is instead.
      format: '{scenario} | {elapsed} s | {requests} req | {errors} err | p95 {p95} | {vus} VUs | generator cpu {cpu}%',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const lines = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress: (scenario, p) => {
      const s = p.scenarios.find((x) => x.name === scenario);
      if (!s) return;
      const payload = {
        scenario: scenario.padEnd(20),
        elapsed: (s.elapsedMs / 1000).toFixed(0).padStart(4),
        requests: String(s.requests).padStart(6),
        errors: String(s.errors).padStart(4),
        p95: s.p95Ms === null ? '   --' : `${s.p95Ms.toFixed(1)} ms`,
        vus: s.activeVus,
        cpu: p.cpuPct.toFixed(0),
      };
      let bar = lines.get(scenario);
      if (!bar) {
        bar = bars.create(1, 0, payload);
        lines.set(scenario, bar);
      }
      bar.update(s.state === 'done' ? 1 : 0, payload);
    },
    // Lines printed while the live lines are shown go above them, not through them.
    log: (line: string) => bars.log(`${redact(line)}\n`),
    stop: () => bars.stop(),
  };
}

async function gateHandler(a: GateArgs): Promise<void> {
  const ac = new AbortController();
  let interrupts = 0;
  const onSig = (sig: string) => {
    interrupts += 1;
    if (interrupts > 1) {
      say(`clawstorm: second ${sig}: exiting now (the report of this run is not written)`);
      process.exit(130);
    }
    say(`clawstorm: ${sig}: stopping the load, rolling back, writing a partial report (Ctrl-C again to exit at once)`);
    ac.abort();
  };
  const onInt = () => onSig('SIGINT');
  const onTerm = () => onSig('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const progress = progressReporter();
  const outDir = path.resolve(a.out ?? defaultOutDir());
  const opts: GateOptions = {
    profile: a.profile,
    outDir,
    replicas: a.replicas,
    signal: ac.signal,
    log: progress.log,
    onProgress: progress.onProgress,
    ...(a.scenarios ? { scenarios: a.scenarios } : {}),
    ...(a.target ? { targetFile: a.target } : {}),
    ...(a.fill ? { fill: a.fill } : {}),
    ...(a['testbed-state'] ? { testbedStateDir: a['testbed-state'] } : {}),
    ...(a['with-drills'] ? { withDrills: true } : {}),
    ...(a.baseline !== undefined ? { baseline: a.baseline } : {}),
    indexFile: a.index === 'off' ? null : path.resolve(a.index),
    kind: a.scenarios ? 'run' : 'gate',
    ...(a['faro-url'] ? { faroUrl: a['faro-url'] } : {}),
    ...(a['remote-write'] ? { remoteWrite: a['remote-write'] } : {}),
  };
  try {
    if (a.shard !== undefined || a.segment !== undefined || a['results-dir'] !== undefined) {
      await runnerHandler(a, opts);
      progress.stop();
      return;
    }
    const outcome = a.runners !== undefined ? await runLocalRunners({ ...opts, runners: a.runners }) : await runGate(opts);
    progress.stop();
    process.exitCode = outcome.exitCode;
  } catch (err) {
    progress.stop();
    if (err instanceof GateError || err instanceof ProfileError || err instanceof SegmentError) throw new CliError(err.message, err.exitCode);
    throw new CliError((err as Error).message, exitCodeForError(err));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/**
 * A sharded runner (`run … --shard i/N --results-dir D`): measures its segment and writes its
 * runner file; the verdict is the judge's. Exit 0 once the file is written.
 */
async function runnerHandler(a: GateArgs, opts: GateOptions): Promise<void> {
  if (a['results-dir'] === undefined) throw new CliError('--shard/--segment: give --results-dir, where this runner writes its results for the judge', EXIT.usage);
  if (a.shard !== undefined && a.segment !== undefined) throw new CliError('--shard and --segment: give one (--shard i/N is --segment (i-1)/N:i/N of the even sequence)', EXIT.usage);
  const tuple = a.shard !== undefined ? parseShard(a.shard) : a.segment !== undefined ? ExecutionTuple.parse(a.segment, a['segment-sequence'] ?? '') : ExecutionTuple.whole();
  const resultsDir = path.resolve(a['results-dir']);
  // The runner manifests put each run's results in a directory of its own, named after the run.
  const run = a.run ?? path.basename(resultsDir);
  const out = await runShard({
    scenarios: opts.scenarios ?? [],
    profile: opts.profile,
    ...(opts.targetFile !== undefined ? { targetFile: opts.targetFile } : {}),
    ...(opts.testbedStateDir !== undefined ? { testbedStateDir: opts.testbedStateDir } : {}),
    tuple,
    run,
    runnerId: a['runner-id'] ?? `${run}-${tuple.index + 1}`,
    resultsDir,
    ...(a.barrier !== undefined ? { barrier: path.resolve(a.barrier) } : {}),
    ...(a['remote-write'] !== undefined ? { remoteWriteUrl: a['remote-write'] } : {}),
    signal: opts.signal,
    log: opts.log,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  process.exitCode = out.complete || opts.signal.aborted ? EXIT.ok : EXIT.inconclusive;
}

const common = (y: Argv) =>
  y
    .option('profile', { type: 'string', default: 'smoke', describe: 'load shape of every scenario: smoke (minutes on 2 cores) or full (the plan’s numbers); pass criteria are the same' })
    .option('target', { type: 'string', describe: 'target profile YAML; without it the local test bed is started, used and stopped' })
    .option('out', { type: 'string', describe: 'directory for results.json, results.md, junit.xml, report.html', defaultDescription: 'reports/runs/<time>' })
    .option('fill', { type: 'string', describe: "the team's Markdown file whose results table (and metrics tables) are filled in place" })
    .option('replicas', { type: 'number', default: 3, describe: 'gateways of the local test bed' })
    .option('testbed-state', { type: 'string', describe: 'use an already running local test bed (its state dir) instead of starting one' })
    .option('baseline', {
      type: 'string',
      describe: 'judge the run against a baseline: a results.json, a run folder, or last-pass (the newest passing run of this profile and target in the run index); a regression fails the run (exit 1)',
    })
    .option('index', { type: 'string', default: 'reports/runs/index.json', describe: 'the run index this run is appended to (and last-pass is looked up in); off: do not index' })
    .option('faro-url', {
      type: 'string',
      describe: "also send the run's events (lifecycle, per-window measurements, verdict) to this Faro receiver (Grafana Alloy faro.receiver, e.g. http://alloy:12347/collect); a receiver that is down never fails or slows the run. API key: CLAWSTORM_FARO_API_KEY",
    })
    .option('remote-write', {
      type: 'string',
      describe: "push the run's figures (P50/P95/P99, error ratio, throughput per scenario, verdict, regressions) to this Prometheus remote-write URL for the trends dashboard; a failure is logged, never fails the run",
    });

export const gateCommand: CommandModule<object, GateArgs> = {
  command: 'gate',
  describe: 'run the five load scenarios of the plan, score them (client + Prometheus), write every report; exit 0/1/2/3',
  builder: (y: Argv) =>
    common(y)
      .option('with-drills', {
        type: 'boolean',
        default: false,
        describe: 'after the scenarios, run the chaos drills (scenarios/drills/) and the webhook storm; the target must allow chaos',
      })
      .option('runners', {
        type: 'number',
        describe:
          'run the plan as N runner processes (execution segments i/N), started together at a barrier and judged as one run; on one machine this proves the protocol, not more capacity',
      }) as Argv<GateArgs>,
  handler: gateHandler,
};

export const runCommand: CommandModule<object, GateArgs> = {
  command: 'run <scenarios..>',
  describe: `run named scenarios (${listScenarios().join(', ')}; or dir/name under scenarios/, e.g. openclaw/hook-storm; or a YAML file) with the gate's scoring and reports`,
  builder: (y: Argv) =>
    common(y)
      .positional('scenarios', { type: 'string', array: true, describe: 'scenario names or YAML files' })
      .option('runners', { type: 'number', describe: 'as gate --runners: N local runner processes, one verdict' })
      .option('shard', { type: 'string', describe: 'run as runner i of N (i/N, from 1): the segment (i-1)/N:i/N; needs --results-dir' })
      .option('segment', { type: 'string', describe: "run this execution segment (k6's --execution-segment, e.g. 1/3:2/3); needs --results-dir" })
      .option('segment-sequence', { type: 'string', describe: "the run's segment sequence (k6's --execution-segment-sequence, e.g. 0,1/3,2/3,1)" })
      .option('results-dir', { type: 'string', describe: 'sharded runner: write the runner file here for `clawstorm judge` (not a verdict)' })
      .option('runner-id', { type: 'string', describe: 'sharded runner: its name in the judge’s report', defaultDescription: '<run>-<i>' })
      .option('run', { type: 'string', describe: 'sharded runner: the run id all runners share', defaultDescription: 'the name of --results-dir' })
      .option('barrier', { type: 'string', describe: 'sharded runner: mark ready, then wait for this start-barrier file before the first scenario' })
      .option('remote-write', { type: 'string', describe: 'sharded runner: push its live counters to this Prometheus remote-write URL (…/api/v1/write), labelled runner and instance_id' }) as Argv<GateArgs>,
  handler: gateHandler,
};

const fillCommand: CommandModule<object, { file: string; from: string; append: boolean }> = {
  command: 'fill <file>',
  describe:
    'fill the results table (and the metrics tables) of FILE in place from a stored results.json; idempotent. Only the cells ClawStorm owns change: ' +
    "other rows and columns stay where they are, missing Observed/Status columns are added beside the team's; with several results tables, the one marked " +
    '<!-- clawstorm:results --> (or the one under the plan\'s heading) is filled, and an ambiguous file is refused (exit 2); a symlink is written through',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true })
      .option('from', { type: 'string', demandOption: true, describe: 'results.json of a run' })
      .option('append', { type: 'boolean', default: false, describe: 'when FILE has no results table, add one at its end (under a heading and the marker) instead of failing' }) as Argv<{
      file: string;
      from: string;
      append: boolean;
    }>,
  handler: (a) => {
    try {
      fillTeamFile(a.file, readResults(a.from), say, { append: a.append });
    } catch (err) {
      // A missing or unreadable file or table, or an ambiguous one, is the caller's to fix: a usage error.
      throw new CliError((err as Error).message, EXIT.usage);
    }
    process.exitCode = EXIT.ok;
  },
};

export const reportCommand: CommandModule = {
  command: 'report <command>',
  describe: 'work with stored results',
  builder: (y: Argv) => y.command(fillCommand as unknown as CommandModule).command(trendsCommand as unknown as CommandModule).demandCommand(1),
  handler: () => {},
};
