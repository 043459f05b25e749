// One sharded runner (`clawstorm run … --shard i/N --results-dir D`): it runs its execution
// segment of every scenario against the target, measures, and writes its runner file. It does not
// judge — its share of the load says nothing about the run's verdict — so it exits 0 once the
// file is written, also when it was stopped early (the file then says so and the judge names it).
import os from 'node:os';
import { resolveScenario, type ScenarioFile } from '../config/scenario.ts';
import { GateError } from '../gate/gate.ts';
import { measureScenario, type ScenarioMeasurement } from '../gate/scenario-run.ts';
import type { EngineProgress } from '../load/engine.ts';
import { segmentString, sequenceString, type ExecutionTuple } from '../load/segment.ts';
import { databaseUrlOf, withTarget } from '../target/with-target.ts';
import { awaitBarrier, BarrierError, markReady } from './barrier.ts';
import { writeRunnerFile } from './file.ts';
import { RemoteWriter } from './remote-write.ts';

export interface RunnerOptions {
  scenarios: string[];
  profile: string;
  targetFile?: string;
  testbedStateDir?: string;
  tuple: ExecutionTuple;
  run: string;
  runnerId: string;
  resultsDir: string;
  /** Wait at this start barrier (see barrier.ts) before the first scenario. */
  barrier?: string;
  barrierTimeoutMs?: number;
  /** Push the runner's live series here by remote write (labelled run/runner/instance_id). */
  remoteWriteUrl?: string;
  signal: AbortSignal;
  log: (line: string) => void;
  onProgress?: (scenario: string, p: EngineProgress) => void;
}

export interface RunnerOutcome {
  file: string;
  complete: boolean;
}

export async function runShard(o: RunnerOptions): Promise<RunnerOutcome> {
  if (o.targetFile === undefined && o.testbedStateDir === undefined) {
    throw new GateError('a runner needs --target or --testbed-state: every runner of a run must load the same target', 2);
  }
  const files: ScenarioFile[] = o.scenarios.map((n) => resolveScenario(n));
  for (const f of files) {
    if (f.profiles[o.profile] === undefined) throw new GateError(`${f.file}: profiles: scenario ${f.name} has no profile ${JSON.stringify(o.profile)}`, 2);
  }
  const index = o.tuple.index + 1;
  const who = `runner ${index}/${o.tuple.sequence.length} (${o.runnerId}, segment ${segmentString(o.tuple.segment)})`;
  return withTarget({ targetFile: o.targetFile, testbedStateDir: o.testbedStateDir, bed: 'reuse-or-start', signal: o.signal, log: o.log, what: 'run', chaos: false }, async (bound) => {
    const lb = bound.profile.lb;
    if (lb === undefined) throw new GateError(`${bound.profile.file}: lb: required`, 2);
    const databaseUrl = databaseUrlOf(bound);
    const measured: ScenarioMeasurement[] = [];
    let problem: string | undefined;
    let startedAt = new Date();
    let failure: unknown;
    const writer = o.remoteWriteUrl === undefined ? undefined : new RemoteWriter({ url: o.remoteWriteUrl, run: o.run, runner: o.runnerId, index, log: o.log });
    try {
      if (o.barrier !== undefined) {
        markReady(o.resultsDir, o.runnerId);
        o.log(`${who}: ready, waiting at the start barrier`);
        startedAt = new Date(await awaitBarrier(o.barrier, o.barrierTimeoutMs ?? 120_000, o.signal));
        o.log(`${who}: released`);
      }
      writer?.start();
      for (const f of files) {
        if (o.signal.aborted) break;
        o.log(`${who}: ${f.name}: start (${o.profile})`);
        const { measurement } = await measureScenario(f, {
          profile: o.profile,
          segment: o.tuple,
          target: {
            baseUrl: lb,
            tokens: bound.tokens,
            // One run id for all runners: request ids and idempotency keys are run-wide (with
            // run-wide iteration numbers) and an audit lookup finds this runner's own.
            runId: o.run,
            ...(databaseUrl ? { databaseUrl } : {}),
            ...(bound.profile.websocket ? { wsConnectParams: bound.profile.websocket.connectParams } : {}),
          },
          signal: o.signal,
          onProgress: (p: EngineProgress) => {
            writer?.note(f.name, p);
            o.onProgress?.(f.name, p);
          },
        });
        measured.push(measurement);
        writer?.final(f.name, { requests: measurement.summary?.count ?? 0, errors: measurement.summary?.errors ?? 0, dropped: measurement.executor.dropped }, measurement.monitor.saturated);
        const x = measurement.executor;
        o.log(`${who}: ${f.name}: ${x.started} started, ${x.dropped} dropped${x.planned === undefined ? '' : ` of ${x.planned} planned`}, ${measurement.summary?.count ?? 0} requests${measurement.monitor.saturated ? `, saturated (${measurement.monitor.reasons.join('; ')})` : ''}`);
        if (measurement.aborted) break;
      }
      if (o.signal.aborted) problem = 'interrupted (SIGINT/SIGTERM) before every scenario finished';
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
      if (!(err instanceof BarrierError) && !o.signal.aborted) failure = err;
    }
    await writer?.stop();
    const complete = problem === undefined && measured.length === files.length;
    const file = writeRunnerFile(o.resultsDir, {
      schema: 'clawstorm.runner/v1',
      run: o.run,
      runner: o.runnerId,
      index,
      segment: segmentString(o.tuple.segment),
      sequence: sequenceString(o.tuple.sequence),
      profile: o.profile,
      target: bound.profile.name,
      host: os.hostname(),
      startedAt: new Date(measured[0]?.startedAt ?? startedAt.getTime()).toISOString(),
      endedAt: new Date().toISOString(),
      planned: files.map((f) => f.name),
      complete,
      ...(complete ? {} : { problem: problem ?? `measured ${measured.length} of ${files.length} scenarios` }),
      scenarios: measured.map((m) => JSON.parse(JSON.stringify(m)) as ScenarioMeasurement),
    } as Parameters<typeof writeRunnerFile>[1]);
    o.log(`${who}: results written to ${file}${complete ? '' : ` (incomplete: ${problem ?? 'stopped early'})`}`);
    // Written first, so the judge names this runner's problem; then the runner fails as it should.
    if (failure !== undefined) throw failure;
    return { file, complete };
  });
}
