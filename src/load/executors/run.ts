// One executor run's shared machinery: VUs, the two stops, one iteration's accounting, the finish.
import { sleep } from '../../util/sleep.ts';
import { withTimeout } from './timing.ts';
import { DEFAULT_SETUP_TIMEOUT_MS, type ExecutorHooks, type ExecutorResult, type IterationContext } from './types.ts';

export interface Vu<S> {
  id: number;
  state: S;
  ready: boolean;
  iterations: number;
  busy: boolean;
  /**
   * Per-activation stop (ramping-vus ramp-down), combined with the run's hard stop into `signal`.
   * Other executors never stop one VU alone: their VUs share the hard stop's signal (a composite
   * signal per VU costs memory and listeners, 10,000 times over).
   */
  ctrl: AbortController | undefined;
  signal: AbortSignal;
  /**
   * An iteration of this VU is running and not yet counted. A VU runs one iteration at a time, so
   * this flag (with `flight`, the number of that iteration) is the in-flight set: finish() counts
   * the ones still up as abandoned, and an abandoned iteration that returns later is not counted twice.
   */
  inFlight: boolean;
  flight: number;
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
  /** Controllers handed to vuSetup calls: the hard stop aborts them all. */
  private readonly setupStops = new Set<AbortController>();
  /** Mirrors stopStarting.signal.aborted: read once per iteration, so a plain field. */
  private stopped = false;
  /** performance.now() when starting stopped (the schedule's end, endNow, or an abort). */
  stoppedAtPerf: number | undefined;
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
    this.hard.signal.addEventListener(
      'abort',
      () => {
        for (const c of this.setupStops) c.abort();
        this.setupStops.clear();
      },
      { once: true },
    );
    this.stopStarting.signal.addEventListener(
      'abort',
      () => {
        this.stopped = true;
        this.stoppedAtPerf = performance.now();
      },
      { once: true },
    );
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
    return !this.stopped && performance.now() < this.endAtPerf;
  }

  /** At t0+atMs stop starting; gracefulStopMs later abort what still runs. */
  scheduleEnd(atMs: number, gracefulStopMs: number): void {
    const end = this.t0 + atMs;
    this.endAtPerf = end;
    // A libuv timer can fire up to ~1 ms early by performance.now(); the stop must not come before
    // the end, or the last starts of the plan would fall outside it.
    const arm = (): void => {
      const left = end - performance.now();
      if (left > 0) {
        this.timers.push(setTimeout(arm, Math.max(1, left)));
        return;
      }
      this.stopStarting.abort();
      this.timers.push(setTimeout(() => this.hard.abort(), gracefulStopMs));
    };
    this.timers.push(setTimeout(arm, Math.max(0, end - performance.now())));
  }

  /** Stop starting now, and abort in-flight iterations gracefulStopMs later. */
  endNow(gracefulStopMs: number): void {
    this.stopStarting.abort();
    this.timers.push(setTimeout(() => this.hard.abort(), gracefulStopMs));
  }

  /** A new VU; with ownStop it can be stopped alone (ramp-down), else it stops with the run. */
  newVu(id: number, ownStop = false): Vu<S> {
    const ctrl = ownStop ? new AbortController() : undefined;
    const vu: Vu<S> = {
      id,
      state: undefined as S,
      ready: false,
      iterations: 0,
      busy: false,
      ctrl,
      signal: ctrl === undefined ? this.hard.signal : AbortSignal.any([this.hard.signal, ctrl.signal]),
      inFlight: false,
      flight: 0,
    };
    this.vus.set(id, vu);
    return vu;
  }

  /** Re-arm a VU whose per-activation signal fired (ramping-vus reactivating a ramped-down VU). */
  rearm(vu: Vu<S>): void {
    if (vu.ctrl === undefined || !vu.ctrl.signal.aborted) return;
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
    const timeout = this.hooks.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    // This signal may outlive the setup (a WebSocket session opened here lives for the whole run),
    // so it fires on the run's hard stop, or when this setup failed or overran, never on a timer.
    // The hard stop reaches it through setupStops (one listener for all), not a composite signal.
    const ctrl = new AbortController();
    if (this.hard.signal.aborted) ctrl.abort();
    else this.setupStops.add(ctrl);
    try {
      vu.state = await withTimeout(setup(vu.id, ctrl.signal), timeout, `vuSetup of VU ${vu.id}`);
      vu.ready = true; // so teardown runs for it even if the run stopped meanwhile
      return !this.hard.signal.aborted;
    } catch (err) {
      this.setupStops.delete(ctrl);
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
    const ctx = this.begin(vu, intendedStart);
    try {
      await this.hooks.iteration(ctx);
      this.end(vu, ctx.iteration, 'completed', undefined);
    } catch (err) {
      this.end(vu, ctx.iteration, ctx.signal.aborted ? 'interrupted' : 'failed', err);
    }
    if (this.mustYield()) await new Promise<void>((r) => setImmediate(r));
  }

  /**
   * Closed model: run iterations on `vu` back to back while `more()` says so; never throws.
   * The same as awaiting runIteration in a loop, without an async call and its promise per
   * iteration (a closed loop at full speed runs this tens of thousands of times a second).
   */
  async runIterations(vu: Vu<S>, more: () => boolean): Promise<void> {
    while (more()) {
      const ctx = this.begin(vu, undefined);
      try {
        await this.hooks.iteration(ctx);
        this.end(vu, ctx.iteration, 'completed', undefined);
      } catch (err) {
        this.end(vu, ctx.iteration, ctx.signal.aborted ? 'interrupted' : 'failed', err);
      }
      if (this.mustYield()) await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Count the start and build the iteration's context (one shape for every iteration). */
  private begin(vu: Vu<S>, intendedStart: number | undefined): IterationContext<S> {
    const flight = this.nextIteration++;
    vu.busy = true;
    vu.inFlight = true;
    vu.flight = flight;
    this.counts.started += 1;
    const hooks = this.hooks;
    return {
      scenario: hooks.scenario,
      vu: vu.id,
      iteration: flight,
      vuIteration: vu.iterations++,
      sink: hooks.sink,
      signal: vu.signal,
      intendedStart,
      startLagMs: intendedStart === undefined ? 0 : Math.max(0, performance.now() - intendedStart),
      state: vu.state,
    };
  }

  /** Count the outcome, unless finish() already counted this iteration as abandoned. */
  private end(vu: Vu<S>, flight: number, outcome: 'completed' | 'failed' | 'interrupted', error: unknown): void {
    vu.busy = false;
    if (!vu.inFlight || vu.flight !== flight) return;
    vu.inFlight = false;
    this.counts[outcome] += 1;
    this.hooks.sink.iterationEnded(this.hooks.scenario, outcome, error);
  }

  /**
   * An iteration that never awaits real I/O would otherwise spin on microtasks and starve the
   * timers that end the run: true at most every 10 ms, when the caller should give the event
   * loop a turn.
   */
  private mustYield(): boolean {
    const now = performance.now();
    if (now - this.lastYield <= 10) return false;
    this.lastYield = now;
    return true;
  }

  /**
   * Wait for the executor's loops; once the hard stop fired, wait at most abandonAfterMs more
   * for iterations that ignore their signal, then count them as interrupted and return.
   *
   * Iteration-based executors pass `unstarted` (how many of their iterations never began): unless
   * the run was aborted from outside, those are dropped, as k6 counts them when maxDuration runs
   * out (or a VU's setup failed), and `planned` is set so that started + dropped = planned.
   */
  async finish(loops: Promise<unknown>, unstarted?: () => number): Promise<ExecutorResult> {
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
    let planned: number | undefined;
    if (unstarted !== undefined) {
      const left = this.aborted ? 0 : Math.max(0, unstarted());
      if (left > 0) this.dropped(left);
      planned = this.counts.started + left;
    }
    let abandonedCount = 0;
    for (const vu of this.vus.values()) {
      if (!vu.inFlight) continue;
      vu.inFlight = false;
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
      ...(planned === undefined ? {} : { planned }),
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
    const timeout = this.hooks.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS;
    await Promise.allSettled(
      [...this.vus.values()].filter((v) => v.ready).map((v) => withTimeout(td(v.id, v.state), timeout, `vuTeardown of VU ${v.id}`)),
    );
  }
}

/** Wait out startTime (abortable) and report whether the run should go on. */
export async function waitStartTime(run: ExecutorRun<unknown>, startTimeMs: number): Promise<boolean> {
  if (startTimeMs <= 0) return !run.aborted;
  return sleep(startTimeMs, run.stopStarting.signal);
}
