import { z } from 'zod';
import type { SampleSink } from '../samples.ts';
import { durationMs } from '../../util/duration.ts';

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
}

export interface ExecutorResult {
  executor: string;
  /** Unix ms when iterations could begin (after startTime and initial VU setup) and when the last one settled. */
  startedAt: number;
  endedAt: number;
  /** performance.now() at startedAt, to relate iteration timestamps to the schedule. */
  startedAtPerf: number;
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

/** One line per problem: `vus: Too small: expected number to be >=1; stages.0.target: …`. */
export function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Resolves at performance.now() >= atPerf, or early when signal aborts. Returns false when aborted. */
export function sleepUntil(atPerf: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  const ms = atPerf - performance.now();
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    // libuv computes timer expiry from its cached loop time, so a timer can fire up to ~1 ms
    // early by performance.now(); re-arm until the moment has really come (a pacer must not start early).
    const arm = (): void => {
      const left = atPerf - performance.now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
        return;
      }
      timer = setTimeout(arm, Math.max(1, left));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return sleepUntil(performance.now() + ms, signal);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface Vu<S> {
  id: number;
  state: S;
  ready: boolean;
  iterations: number;
  busy: boolean;
  /** Per-activation stop (ramping-vus ramp-down); combined with the run's hard stop. */
  ctrl: AbortController;
  signal: AbortSignal;
}

interface Flight {
  settled: boolean;
}

/**
 * The part every executor shares: VU bookkeeping, the two stops (no more starts; abort in-flight),
 * running one iteration with outcome accounting, and a bounded finish.
 */
export class ExecutorRun<S> {
  readonly hooks: ExecutorHooks<S>;
  readonly executor: string;
  /** Aborted when no new iteration may start. */
  readonly stopStarting = new AbortController();
  /** Aborted when in-flight iterations must stop. */
  readonly hard = new AbortController();
  readonly vus = new Map<number, Vu<S>>();
  startedAt = Date.now();
  t0 = performance.now();
  private nextIteration = 0;
  private readonly inFlight = new Set<Flight>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly counts = { started: 0, completed: 0, failed: 0, interrupted: 0, dropped: 0, setupFailures: 0 };
  private activeVus = 0;
  private endAtPerf = Infinity;
  private lastYield = performance.now();
  pacerLagMaxMs: number | undefined;
  barrierReleasedAt: number | undefined;
  private readonly unlinkExternal: () => void;

  constructor(executor: string, hooks: ExecutorHooks<S>) {
    this.executor = executor;
    this.hooks = hooks;
    const ext = hooks.signal;
    const onAbort = (): void => this.abortNow();
    if (ext?.aborted) this.abortNow();
    else ext?.addEventListener('abort', onAbort, { once: true });
    this.unlinkExternal = () => ext?.removeEventListener('abort', onAbort);
  }

  get aborted(): boolean {
    return this.hooks.signal?.aborted === true;
  }

  /** Mark the schedule's zero: timers and elapsed times count from here. */
  markStart(): void {
    this.startedAt = Date.now();
    this.t0 = performance.now();
  }

  abortNow(): void {
    this.stopStarting.abort();
    this.hard.abort();
  }

  /** True while new iterations may start: not stopped, and the schedule's end (if any) not reached. */
  canStart(): boolean {
    return !this.stopStarting.signal.aborted && performance.now() < this.endAtPerf;
  }

  /** At t0+atMs stop starting; gracefulStopMs later abort what still runs. */
  scheduleEnd(atMs: number, gracefulStopMs: number): void {
    this.endAtPerf = this.t0 + atMs;
    const delay = Math.max(0, this.t0 + atMs - performance.now());
    this.timers.push(
      setTimeout(() => {
        this.stopStarting.abort();
        this.timers.push(setTimeout(() => this.hard.abort(), gracefulStopMs));
      }, delay),
    );
  }

  /** Stop starting now, and abort in-flight iterations gracefulStopMs later. */
  endNow(gracefulStopMs: number): void {
    this.stopStarting.abort();
    this.timers.push(setTimeout(() => this.hard.abort(), gracefulStopMs));
  }

  newVu(id: number): Vu<S> {
    const ctrl = new AbortController();
    const vu: Vu<S> = {
      id,
      state: undefined as S,
      ready: false,
      iterations: 0,
      busy: false,
      ctrl,
      signal: AbortSignal.any([this.hard.signal, ctrl.signal]),
    };
    this.vus.set(id, vu);
    return vu;
  }

  /** Re-arm a VU whose per-activation signal fired (ramping-vus reactivating a ramped-down VU). */
  rearm(vu: Vu<S>): void {
    if (!vu.ctrl.signal.aborted) return;
    vu.ctrl = new AbortController();
    vu.signal = AbortSignal.any([this.hard.signal, vu.ctrl.signal]);
  }

  /** Run vuSetup (bounded). False when it failed; the VU then never runs. */
  async setupVu(vu: Vu<S>): Promise<boolean> {
    const setup = this.hooks.vuSetup;
    if (setup === undefined) {
      vu.ready = true;
      return true;
    }
    const timeout = this.hooks.setupTimeoutMs ?? 60_000;
    // This signal may outlive the setup (a WebSocket session opened here lives for the whole run),
    // so it fires on the run's hard stop, or when this setup failed or overran, never on a timer.
    const ctrl = new AbortController();
    const signal = AbortSignal.any([this.hard.signal, ctrl.signal]);
    try {
      vu.state = await withTimeout(setup(vu.id, signal), timeout, `vuSetup of VU ${vu.id}`);
      vu.ready = true; // so teardown runs for it even if the run stopped meanwhile
      return !this.hard.signal.aborted;
    } catch (err) {
      ctrl.abort();
      this.counts.setupFailures += 1;
      if (!this.hard.signal.aborted) this.hooks.sink.noteError(this.hooks.scenario, `vuSetup of VU ${vu.id}`, err);
      return false;
    }
  }

  setActiveVus(delta: number): void {
    this.activeVus += delta;
    this.hooks.onActiveVus?.(this.activeVus);
  }

  dropped(n = 1): void {
    this.counts.dropped += n;
    this.hooks.sink.droppedIteration(this.hooks.scenario, n);
  }

  notePacerLag(lagMs: number): void {
    if (this.pacerLagMaxMs === undefined || lagMs > this.pacerLagMaxMs) this.pacerLagMaxMs = lagMs;
    this.hooks.onPacerLag?.(lagMs);
  }

  /** Run one iteration on `vu`; never throws. */
  async runIteration(vu: Vu<S>, intendedStart?: number): Promise<void> {
    const flight: Flight = { settled: false };
    this.inFlight.add(flight);
    vu.busy = true;
    const iteration = this.nextIteration++;
    const vuIteration = vu.iterations++;
    this.counts.started += 1;
    const signal = vu.signal;
    const startLagMs = intendedStart === undefined ? 0 : Math.max(0, performance.now() - intendedStart);
    let outcome: 'completed' | 'failed' | 'interrupted' = 'completed';
    let error: unknown;
    try {
      await this.hooks.iteration({
        scenario: this.hooks.scenario,
        vu: vu.id,
        iteration,
        vuIteration,
        sink: this.hooks.sink,
        signal,
        ...(intendedStart === undefined ? {} : { intendedStart }),
        startLagMs,
        state: vu.state,
      });
    } catch (err) {
      outcome = signal.aborted ? 'interrupted' : 'failed';
      error = err;
    } finally {
      vu.busy = false;
      this.inFlight.delete(flight);
    }
    if (!flight.settled) {
      flight.settled = true;
      this.counts[outcome] += 1;
      this.hooks.sink.iterationEnded(this.hooks.scenario, outcome, error);
    }
    // An iteration that never awaits real I/O would otherwise spin on microtasks and starve the
    // timers that end the run; give the event loop a turn at least every 10 ms.
    const now = performance.now();
    if (now - this.lastYield > 10) {
      this.lastYield = now;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * Wait for the executor's loops; once the hard stop fired, wait at most abandonAfterMs more
   * for iterations that ignore their signal, then count them as interrupted and return.
   */
  async finish(loops: Promise<unknown>): Promise<ExecutorResult> {
    const abandonMs = this.hooks.abandonAfterMs ?? 2_000;
    let giveUp: NodeJS.Timeout | undefined;
    const onHard = (): void => {
      giveUp = setTimeout(() => resolveGiveUp(), abandonMs);
    };
    let resolveGiveUp: () => void = () => {};
    const abandoned = new Promise<void>((r) => {
      resolveGiveUp = r;
    });
    if (this.hard.signal.aborted) onHard();
    else this.hard.signal.addEventListener('abort', onHard, { once: true });
    await Promise.race([loops.then(() => undefined, () => undefined), abandoned]);
    clearTimeout(giveUp);
    this.hard.signal.removeEventListener('abort', onHard);
    for (const t of this.timers) clearTimeout(t);
    this.stopStarting.abort();
    let abandonedCount = 0;
    for (const f of this.inFlight) {
      if (f.settled) continue;
      f.settled = true;
      abandonedCount += 1;
      this.counts.interrupted += 1;
      this.hooks.sink.iterationEnded(this.hooks.scenario, 'interrupted');
    }
    // Let everything still running see an aborted signal; nothing new will start.
    this.hard.abort();
    await this.teardown();
    this.unlinkExternal();
    return {
      executor: this.executor,
      startedAt: this.startedAt,
      endedAt: Date.now(),
      startedAtPerf: this.t0,
      ...this.counts,
      peakVus: this.vus.size,
      ...(this.pacerLagMaxMs === undefined ? {} : { pacerLagMaxMs: Math.round(this.pacerLagMaxMs * 1000) / 1000 }),
      ...(this.barrierReleasedAt === undefined ? {} : { barrierReleasedAt: this.barrierReleasedAt }),
      aborted: this.aborted,
      abandoned: abandonedCount,
    };
  }

  private async teardown(): Promise<void> {
    const td = this.hooks.vuTeardown;
    if (td === undefined) return;
    const timeout = this.hooks.setupTimeoutMs ?? 60_000;
    await Promise.allSettled(
      [...this.vus.values()].filter((v) => v.ready).map((v) => withTimeout(td(v.id, v.state), timeout, `vuTeardown of VU ${v.id}`)),
    );
  }
}

/** Upper bound on VUs in any executor: every loop here is bounded in count. */
export const MAX_VUS = 100_000;

/** The open-model executors' VU pool: maxVUs not below preAllocatedVUs, and at least one VU. */
export function checkVuPool(c: { preAllocatedVUs: number; maxVUs?: number | undefined }, ctx: z.RefinementCtx): void {
  if (c.maxVUs !== undefined && c.maxVUs < c.preAllocatedVUs) {
    ctx.addIssue({ code: 'custom', message: 'maxVUs must be >= preAllocatedVUs', path: ['maxVUs'] });
  }
  if (Math.max(c.maxVUs ?? 0, c.preAllocatedVUs) < 1) {
    ctx.addIssue({ code: 'custom', message: 'need at least one VU: set preAllocatedVUs or maxVUs >= 1', path: ['preAllocatedVUs'] });
  }
}

export const vusField = z.number().int().min(1).max(MAX_VUS);
/** k6 defaults: no start delay, 30 s for in-flight iterations after the end. */
export const commonFields = {
  startTime: durationMs.default(0),
  gracefulStop: durationMs.default(30_000),
};

/** Wait out startTime (abortable) and report whether the run should go on. */
export async function waitStartTime(run: ExecutorRun<unknown>, startTimeMs: number): Promise<boolean> {
  if (startTimeMs <= 0) return !run.aborted;
  return sleep(startTimeMs, run.stopStarting.signal);
}
