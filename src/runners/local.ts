// `clawstorm gate --runners N` on one machine: N runner processes, each running its execution
// segment of the plan, held at a start barrier until all are ready, released together, then
// judged as one run. On one machine this proves the protocol (segments, barrier, exact merge, one
// verdict) — not more capacity: the runners share this machine's CPU with each other and the bed.
import fs from 'node:fs';
import path from 'node:path';
import { resolveScenario, type ScenarioFile } from '../config/scenario.ts';
import { GateError, type GateOptions, type GateOutcome } from '../gate/gate.ts';
import { maxExecutorMs } from '../load/executors/index.ts';
import { summarizeProbes } from '../probe/judge.ts';
import { ProbeSampler } from '../probe/sampler.ts';
import { TEMPLATE_SCENARIOS } from '../report/results.ts';
import { chaosTargetFrom } from '../target/target.ts';
import { withTarget } from '../target/with-target.ts';
import { isAlive, stopProcess, type StartedProcess } from '../util/proc.ts';
import { launch, LaunchError } from '../util/supervise.ts';
import { newRunId } from '../util/ids.ts';
import { readyMarkPath, releaseBarrier } from './barrier.ts';
import { runnerFilePath } from './file.ts';
import { collectRunnerFiles, judgeRun } from './judge.ts';

const MAIN = path.resolve(import.meta.dirname, '../cli/main.ts');

export const ONE_MACHINE_NOTE =
  'runners on one machine prove the protocol (segments, start barrier, exact merge, one verdict), not more capacity: they share this machine with each other and the test bed';

export interface LocalRunnersOptions extends GateOptions {
  runners: number;
}

/** How long the judge waits for the last runner: the plan's longest run, plus start-up and lookups. */
export function waitBoundMs(files: readonly ScenarioFile[], profile: string): number {
  return files.reduce((a, f) => a + maxExecutorMs(f.profiles[profile] as NonNullable<(typeof f.profiles)[string]>) + 60_000, 60_000);
}

export async function runLocalRunners(opts: LocalRunnersOptions): Promise<GateOutcome> {
  const n = opts.runners;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new GateError(`--runners ${n}: between 1 and 64 on one machine`, 2);
  if (opts.withDrills) throw new GateError('--runners with --with-drills: the drills run on one process; run them with a plain gate', 2);
  const names = opts.scenarios && opts.scenarios.length > 0 ? opts.scenarios : TEMPLATE_SCENARIOS.map((s) => s.name);
  const files = names.map((x) => resolveScenario(x));
  for (const f of files) {
    if (f.profiles[opts.profile] === undefined) throw new GateError(`${f.file}: profiles: scenario ${f.name} has no profile ${JSON.stringify(opts.profile)}`, 2);
  }
  return withTarget(
    { targetFile: opts.targetFile, testbedStateDir: opts.testbedStateDir, bed: 'fresh', replicas: opts.replicas, signal: opts.signal, log: opts.log, what: 'gate', chaos: false },
    async (bound) => {
      const run = newRunId();
      const resultsDir = path.join(opts.outDir, 'runners');
      const barrier = path.join(resultsDir, 'start');
      fs.rmSync(resultsDir, { recursive: true, force: true });
      fs.mkdirSync(resultsDir, { recursive: true });
      opts.log(`runners: ${n} on this machine — ${ONE_MACHINE_NOTE}`);
      const promUrl = bound.profile.prometheus.url;
      const remoteWrite = promUrl === undefined ? [] : ['--remote-write', `${promUrl.replace(/\/+$/, '')}/api/v1/write`];
      const targetArgs = opts.targetFile !== undefined ? ['--target', opts.targetFile] : ['--testbed-state', bound.testbed?.stateDir ?? opts.testbedStateDir ?? ''];
      const procs: StartedProcess[] = [];
      const stopAll = async (): Promise<void> => {
        await Promise.all(procs.map((p) => stopProcess(p, 15_000).catch(() => {})));
      };
      // The runners live in process groups of their own (a terminal's Ctrl-C does not reach them):
      // if this process exits at once (a second Ctrl-C), they are told to stop on the way out.
      const onExit = (): void => {
        for (const p of procs) {
          try {
            if (isAlive(p.pid)) process.kill(p.pid, 'SIGTERM');
          } catch {
            // gone already
          }
        }
      };
      process.on('exit', onExit);
      try {
        // Every runner starts, binds the target, reads the scenarios and waits at the barrier.
        const started = await Promise.allSettled(
          Array.from({ length: n }, (_, k) => {
            const i = k + 1;
            const id = `${run}-${i}`;
            return launch({
              name: `runner ${i}/${n}`,
              command: process.execPath,
              args: [MAIN, 'run', ...files.map((f) => f.file), '--profile', opts.profile, ...targetArgs, '--shard', `${i}/${n}`, '--run', run, '--runner-id', id, '--results-dir', resultsDir, '--barrier', barrier, ...remoteWrite],
              logFile: path.join(resultsDir, `${id}.log`),
              ready: async () => fs.existsSync(readyMarkPath(resultsDir, id)),
              readyWhat: 'ready at the start barrier',
              timeoutMs: 60_000,
              intervalMs: 50,
              signal: opts.signal,
              onSpawn: (p) => procs.push(p),
            });
          }),
        );
        const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed.length > 0) {
          const first = failed[0]?.reason;
          if (first instanceof LaunchError && first.aborted) throw new GateError('interrupted while the runners were starting', 3);
          throw new GateError(`${failed.length} of ${n} runners did not get ready: ${first instanceof Error ? first.message : String(first)}`, 3);
        }
        const sampler = new ProbeSampler(chaosTargetFrom(bound));
        sampler.start();
        let outcome: GateOutcome;
        try {
          const at = releaseBarrier(barrier);
          opts.log(`runners: all ${n} ready; released together, starting at ${new Date(at).toISOString()}`);
          // On an abort the runners are stopped (SIGTERM): each writes what it measured, marked
          // incomplete, and the judge still gives the run its (aborted) verdict.
          const onAbort = (): void => void stopAll();
          opts.signal.addEventListener('abort', onAbort, { once: true });
          try {
            const signal = new AbortController().signal;
            outcome = await judgeRun({
              run,
              runners: n,
              signal,
              log: opts.log,
              collect: () =>
                collectRunnerFiles({
                  run,
                  runners: n,
                  resultsDir,
                  waitUpToMs: waitBoundMs(files, opts.profile),
                  signal,
                  log: opts.log,
                  mayStillReport: (i) => fs.existsSync(runnerFilePath(resultsDir, `${run}-${i}`)) || isAlive(procs[i - 1]?.pid ?? -1),
                }),
              files,
              profile: opts.profile,
              bound,
              sharedHost: bound.testbed !== undefined,
              outDir: opts.outDir,
              ...(opts.fill !== undefined ? { fill: opts.fill } : {}),
              probes: async () => summarizeProbes(await sampler.stop()),
              note: `${n} ${ONE_MACHINE_NOTE}`,
            });
          } finally {
            opts.signal.removeEventListener('abort', onAbort);
          }
        } finally {
          // Stopped already when the judge got that far; stopping twice is harmless.
          await sampler.stop().catch(() => []);
        }
        return outcome;
      } finally {
        await stopAll();
        process.off('exit', onExit);
      }
    },
  );
}
