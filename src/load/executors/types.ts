// What an executor is given (the iteration and its hooks) and what it gives back.
import type { SampleSink } from '../samples.ts';

export interface IterationContext<S = undefined> {
  scenario: string;
  /** 1-based VU id within the scenario. */
  vu: number;
  /** Scenario-wide iteration number, 0-based, in start order. */
  iteration: number;
  /** This VU's own iteration count, 0-based. */
  vuIteration: number;
  sink: SampleSink;
  /** Aborted on engine abort, at the end of gracefulStop / gracefulRampDown. Pass it to every I/O call. */
  signal: AbortSignal;
  /** Open model only: performance.now() ms at which the pacer meant this iteration to start. */
  intendedStart?: number;
  /** Actual start minus intended start, ms (0 in closed-model executors). Drivers add it to every latency. */
  startLagMs: number;
  /** Whatever vuSetup returned for this VU. */
  state: S;
}

/** Bound on each vuSetup and vuTeardown call when the scenario sets none. */
export const DEFAULT_SETUP_TIMEOUT_MS = 60_000;

export type IterationFn<S = undefined> = (ctx: IterationContext<S>) => Promise<void>;

export interface ExecutorHooks<S = undefined> {
  scenario: string;
  sink: SampleSink;
  iteration: IterationFn<S>;
  signal?: AbortSignal;
  /**
   * Per-VU preparation (log in, open a WebSocket) run before the VU's first iteration. Its signal
   * lasts the VU's life (aborted at the run's hard stop), so sessions may keep it.
   */
  vuSetup?: (vu: number, signal: AbortSignal) => Promise<S>;
  vuTeardown?: (vu: number, state: S) => Promise<void>;
  /** Bound on each vuSetup and vuTeardown call. */
  setupTimeoutMs?: number;
  /** How long to wait for iterations that ignore their aborted signal before giving up on them. */
  abandonAfterMs?: number;
  /** Called when the number of busy/active VUs changes (progress display). */
  onActiveVus?: (n: number) => void;
  /** Open model: lateness of each start against its intended time (generator saturation signal). */
  onPacerLag?: (lagMs: number) => void;
  /**
   * Open model on a sharded runner: whether arrival k (0-based) of the global, unscaled schedule
   * is this runner's. The others are another runner's to start or drop, so they are not counted
   * here at all (src/load/segment.ts planShard). Absent: every arrival is this runner's.
   */
  owns?: (k: number) => boolean;
}

export interface ExecutorResult {
  executor: string;
  /** Unix ms when iterations could begin (after startTime and initial VU setup) and when the last one settled. */
  startedAt: number;
  endedAt: number;
  /** performance.now() at startedAt, to relate iteration timestamps to the schedule. */
  startedAtPerf: number;
  /**
   * Iterations the executor set out to start: the open model's starts due before the run stopped,
   * or the iteration-based executors' count (less what an outside abort cut off). Each is started
   * or dropped (started + dropped = planned); a started one ends completed, failed or
   * interrupted. Absent for the duration-based closed executors, which plan no count.
   */
  planned?: number;
  started: number;
  completed: number;
  failed: number;
  interrupted: number;
  dropped: number;
  /** Peak number of VUs allocated. */
  peakVus: number;
  setupFailures: number;
  /** Largest lateness of a pacer start, ms (open model only). */
  pacerLagMaxMs?: number;
  /** Unix ms at which a start barrier released all VUs. */
  barrierReleasedAt?: number;
  aborted: boolean;
  /** Iterations still running after abandonAfterMs past the hard stop (they ignored their signal). */
  abandoned: number;
}
