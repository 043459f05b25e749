import {
  DEFAULT_SETUP_TIMEOUT_MS,
  maxExecutorMs,
  parseExecutorConfig,
  runExecutor,
  type ExecutorConfig,
  type ExecutorConfigInput,
  type ExecutorResult,
  type IterationFn,
} from './executors/index.ts';
import { planShard, type ExecutionTuple } from './segment.ts';
import { GeneratorMonitor, type MonitorThresholds, type MonitorVerdict } from './monitor.ts';
import { SampleSink, type SecondBucket, type SinkSummary } from './samples.ts';

export interface ScenarioExecution<S = undefined> {
  name: string;
  /** As written in a scenario file (durations as strings); validated here. */
  executor: ExecutorConfigInput;
  iteration: IterationFn<S>;
  vuSetup?: (vu: number, signal: AbortSignal) => Promise<S>;
  vuTeardown?: (vu: number, state: S) => Promise<void>;
  setupTimeoutMs?: number;
  /**
   * This runner's execution segment (sharded runs): closed-model counts are scaled to its share,
   * open-model arrivals filtered to its own, and iteration and VU numbers made run-wide, so that
   * N runners together run exactly the plan. Absent: the whole plan.
   */
  segment?: ExecutionTuple;
}

interface RunCommon {
  sink: SampleSink;
  signal: AbortSignal;
  onActiveVus: (n: number) => void;
  onPacerLag: (lagMs: number) => void;
}

/** A validated scenario with its VU-state type erased, so different scenarios fit one list. */
export interface PreparedScenario {
  readonly name: string;
  readonly executor: ExecutorConfig;
  /**
   * Longest its VU setup and teardown may add to the executor's own bound (each call is bounded
   * by setupTimeoutMs; all VUs' setups run together): 10,000 WebSocket sessions take a while to
   * open, and the watchdog must not mistake that for an executor overrunning its schedule.
   */
  readonly setupBoundMs: number;
  run(common: RunCommon): Promise<ExecutorResult>;
}

/** Validate a scenario (throws one line naming it) and erase its VU-state type. */
export function scenario<S>(s: ScenarioExecution<S>): PreparedScenario {
  const whole = parseExecutorConfig(s.executor, `scenario "${s.name}"`);
  const perCall = s.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
  const shard = s.segment === undefined || s.segment.isWhole ? undefined : planShard(whole, s.segment);
  const executor = shard?.config ?? whole;
  // Run-wide numbers, so `{{iteration}}`/`{{user}}` (and idempotency keys built from them) stay
  // unique over all runners; VU-state hooks see the same ids the iterations do.
  const iteration: IterationFn<S> =
    shard === undefined ? s.iteration : (ctx) => s.iteration({ ...ctx, iteration: shard.globalIteration(ctx.iteration), vu: shard.globalVu(ctx.vu) });
  const vuSetup = s.vuSetup === undefined || shard === undefined ? s.vuSetup : (vu: number, sig: AbortSignal) => (s.vuSetup as NonNullable<typeof s.vuSetup>)(shard.globalVu(vu), sig);
  const vuTeardown = s.vuTeardown === undefined || shard === undefined ? s.vuTeardown : (vu: number, st: S) => (s.vuTeardown as NonNullable<typeof s.vuTeardown>)(shard.globalVu(vu), st);
  return {
    name: s.name,
    executor,
    setupBoundMs: (s.vuSetup === undefined ? 0 : perCall) + (s.vuTeardown === undefined ? 0 : perCall),
    run: (c) =>
      shard !== undefined && !shard.hasWork
        ? Promise.resolve(noWork(executor.executor))
        : runExecutor<S>(executor, {
            scenario: s.name,
            sink: c.sink,
            signal: c.signal,
            iteration,
            ...(vuSetup === undefined ? {} : { vuSetup }),
            ...(vuTeardown === undefined ? {} : { vuTeardown }),
            ...(s.setupTimeoutMs === undefined ? {} : { setupTimeoutMs: s.setupTimeoutMs }),
            ...(shard?.ownsIteration === undefined ? {} : { owns: shard.ownsIteration }),
            onActiveVus: c.onActiveVus,
            onPacerLag: c.onPacerLag,
          }),
  };
}

/** A runner whose segment holds none of an executor's work skips it, as k6 does: nothing planned, nothing run. */
function noWork(executor: string): ExecutorResult {
  const now = Date.now();
  return { executor, startedAt: now, endedAt: now, startedAtPerf: performance.now(), planned: 0, started: 0, completed: 0, failed: 0, interrupted: 0, dropped: 0, peakVus: 0, setupFailures: 0, aborted: false, abandoned: 0 };
}

export interface ScenarioProgressLine {
  name: string;
  state: 'pending' | 'running' | 'done';
  elapsedMs: number;
  requests: number;
  errors: number;
  /** p95 of the last completed second, ms. */
  p95Ms: number | null;
  dropped: number;
  activeVus: number;
}

export interface EngineProgress {
  elapsedMs: number;
  scenarios: ScenarioProgressLine[];
  eventLoopP99Ms: number;
  cpuPct: number;
  /** Host busy CPU, % of all cores, and the generator's share of it, %; null where unreadable. */
  hostCpuPct: number | null;
  generatorHostSharePct: number | null;
}

export interface EngineOptions {
  sink?: SampleSink;
  signal?: AbortSignal;
  /** Default 'concurrent' (startTime offsets apply); 'sequential' runs them one after another. */
  mode?: 'concurrent' | 'sequential';
  onProgress?: (p: EngineProgress) => void;
  progressIntervalMs?: number;
  monitor?: Partial<MonitorThresholds>;
  /** Extra time past an executor's own bound before the engine aborts it (watchdog). Default 15 s. */
  watchdogSlackMs?: number;
}

export interface ScenarioOutcome {
  name: string;
  executor: ExecutorConfig;
  result: ExecutorResult;
  /** The engine's watchdog had to abort it (an executor overran its own bound). */
  watchdogFired: boolean;
}

export interface EngineResult {
  /** Unix ms: the window to ask Prometheus about. */
  startedAt: number;
  endedAt: number;
  aborted: boolean;
  scenarios: ScenarioOutcome[];
  summary: SinkSummary;
  /** Per-second series, all scenarios together and per scenario. */
  buckets: SecondBucket[];
  scenarioBuckets: Record<string, SecondBucket[]>;
  monitor: MonitorVerdict;
  /** 'inconclusive' when the generator was saturated: its numbers cannot be trusted (exit code 3). */
  verdictHint: 'inconclusive' | null;
}

/** Run scenarios (concurrently or in sequence) against one sink, watching the generator itself. */
export async function runEngine(scenarios: readonly PreparedScenario[], opts: EngineOptions = {}): Promise<EngineResult> {
  const names = new Set<string>();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`scenario "${s.name}" is listed twice; names must be unique`);
    names.add(s.name);
  }
  const sink = opts.sink ?? new SampleSink();
  const monitor = new GeneratorMonitor(opts.monitor ?? {});
  const outer = opts.signal;
  const slack = opts.watchdogSlackMs ?? 15_000;
  const startedAt = Date.now();
  const t0 = performance.now();
  monitor.start();

  const lines = new Map<string, ScenarioProgressLine & { t0: number }>();
  for (const s of scenarios) {
    lines.set(s.name, { name: s.name, state: 'pending', elapsedMs: 0, requests: 0, errors: 0, p95Ms: null, dropped: 0, activeVus: 0, t0: 0 });
  }
  const progress = (): EngineProgress => {
    sink.tick();
    const now = performance.now();
    const v = monitor.verdict();
    return {
      elapsedMs: Math.round(now - t0),
      eventLoopP99Ms: v.eventLoopP99Ms,
      cpuPct: v.cpuPct,
      hostCpuPct: v.hostCpuPct,
      generatorHostSharePct: v.generatorHostSharePct,
      scenarios: [...lines.values()].map(({ t0: st, ...l }) => {
        const p = sink.progress(l.name);
        return { ...l, elapsedMs: l.state === 'pending' ? 0 : l.state === 'running' ? Math.round(now - st) : l.elapsedMs, ...p };
      }),
    };
  };
  const ticker = setInterval(() => {
    const p = progress();
    try {
      opts.onProgress?.(p);
    } catch {
      // a broken progress display must not break the run
    }
  }, opts.progressIntervalMs ?? 1_000);

  const runOne = async (s: PreparedScenario): Promise<ScenarioOutcome> => {
    const line = lines.get(s.name) as ScenarioProgressLine & { t0: number };
    const ctrl = new AbortController();
    const signal = outer === undefined ? ctrl.signal : AbortSignal.any([outer, ctrl.signal]);
    let watchdogFired = false;
    const watchdog = setTimeout(() => {
      watchdogFired = true;
      ctrl.abort();
    }, maxExecutorMs(s.executor) + s.setupBoundMs + slack);
    line.state = 'running';
    line.t0 = performance.now();
    try {
      const result = await s.run({
        sink,
        signal,
        onActiveVus: (n) => {
          line.activeVus = n;
        },
        onPacerLag: (lag) => monitor.notePacerLag(lag),
      });
      return { name: s.name, executor: s.executor, result, watchdogFired };
    } finally {
      clearTimeout(watchdog);
      line.state = 'done';
      line.elapsedMs = Math.round(performance.now() - line.t0);
    }
  };

  const outcomes: ScenarioOutcome[] = [];
  try {
    if (opts.mode === 'sequential') {
      for (const s of scenarios) {
        if (outer?.aborted) break;
        outcomes.push(await runOne(s));
      }
    } else {
      outcomes.push(...(await Promise.all(scenarios.map((s) => runOne(s)))));
    }
  } finally {
    clearInterval(ticker);
  }
  const verdict = monitor.stop();
  const last = progress();
  try {
    opts.onProgress?.(last);
  } catch {
    // see above
  }
  const scenarioBuckets: Record<string, SecondBucket[]> = {};
  for (const name of sink.scenarioNames()) scenarioBuckets[name] = sink.buckets(name);
  return {
    startedAt,
    endedAt: Date.now(),
    aborted: outer?.aborted === true,
    scenarios: outcomes,
    summary: sink.summary(),
    buckets: sink.buckets(),
    scenarioBuckets,
    monitor: verdict,
    verdictHint: verdict.saturated ? 'inconclusive' : null,
  };
}
