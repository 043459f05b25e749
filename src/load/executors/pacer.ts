// The open-model loop both arrival-rate executors share: starts at the times the schedule says,
// each on a free VU or counted as dropped, never delayed for a VU.
import type { ArrivalSchedule } from './arrival-schedule.ts';
import type { ExecutorRun, Vu } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

export interface OpenModelOptions {
  schedule: ArrivalSchedule;
  preAllocatedVUs: number;
  maxVUs: number;
  gracefulStopMs: number;
  endMs: number;
}

/** While catching up after a stall, let I/O and timers through at least this often (ms). */
const CATCH_UP_SLICE_MS = 5;

/**
 * Waits for the pacer's next due time with one timer and one stop listener for the whole run
 * (a sleep per start costs a promise, a timer and an abort listener added and removed, 2,000
 * times a second at 2,000 starts/s). Starts that fall due while it waits go out together when it
 * wakes, each with its own intended time.
 */
class PacerClock {
  private timer: NodeJS.Timeout | undefined;
  private wake: ((due: boolean) => void) | undefined;
  private stopped = false;
  private readonly unlink: () => void;

  constructor(stop: AbortSignal) {
    const onStop = (): void => {
      this.stopped = true;
      clearTimeout(this.timer);
      this.wake?.(false);
      this.wake = undefined;
    };
    if (stop.aborted) this.stopped = true;
    else stop.addEventListener('abort', onStop, { once: true });
    this.unlink = () => stop.removeEventListener('abort', onStop);
  }

  /** Resolves true at performance.now() >= atPerf, false as soon as the stop fires. */
  until(atPerf: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (performance.now() >= atPerf) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.wake = resolve;
      // libuv computes timer expiry from its cached loop time, so a timer can fire up to ~1 ms
      // early by performance.now(); re-arm until the moment has really come (never start early).
      const arm = (): void => {
        const left = atPerf - performance.now();
        if (left <= 0) {
          this.wake = undefined;
          resolve(true);
          return;
        }
        this.timer = setTimeout(arm, Math.max(1, left));
      };
      arm();
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.unlink();
  }
}

/**
 * Run the open model. Each start gets a free VU or is counted as dropped, never delayed; its
 * intended time travels with it so drivers measure latency from when the request should have gone
 * out (wrk2's correction). Every start the schedule plans before the run stops is accounted for:
 * started, or dropped (no free VU, or still not made when the run stopped because the generator
 * had fallen behind), so started + dropped = planned.
 */
export async function runOpenModel<S>(run: ExecutorRun<S>, hooks: ExecutorHooks<S>, opts: OpenModelOptions): Promise<ExecutorResult> {
  const idle: Array<Vu<S>> = [];
  let allocated = 0;
  const allocate = (): Vu<S> => run.newVu(++allocated);

  const pre = Array.from({ length: opts.preAllocatedVUs }, () => allocate());
  const ok = await Promise.all(pre.map((vu) => run.setupVu(vu)));
  pre.forEach((vu, i) => {
    if (ok[i]) idle.push(vu);
  });
  if (run.stopStarting.signal.aborted) return run.finish(Promise.resolve());

  let active = 0;
  let drained: (() => void) | undefined;
  const settle = (vu: Vu<S>): void => {
    active -= 1;
    run.setActiveVus(-1);
    if (!vu.signal.aborted) idle.push(vu);
    if (active === 0) drained?.();
  };
  const launch = (vu: Vu<S>, intended: number): void => {
    active += 1;
    run.setActiveVus(1);
    void run.runIteration(vu, intended).then(() => settle(vu));
  };
  const growInBackground = (): void => {
    const vu = allocate();
    void run.setupVu(vu).then((good) => {
      if (good) idle.push(vu);
    });
  };

  run.markStart();
  run.scheduleEnd(opts.endMs, opts.gracefulStopMs);
  const clock = new PacerClock(run.stopStarting.signal);
  let planned = 0;
  const owns = hooks.owns;

  const pacer = async (): Promise<void> => {
    let lastYield = performance.now();
    let n = 0;
    for (; ; n++) {
      const off = opts.schedule(n);
      if (off === undefined || off >= opts.endMs) break;
      if (owns !== undefined && !owns(n)) continue;
      const due = run.t0 + off;
      if (!(await clock.until(due)) || !run.canStart()) break;
      planned += 1;
      const now = performance.now();
      run.notePacerLag(now - due);
      const vu = idle.pop();
      if (vu !== undefined) launch(vu, due);
      else if (allocated < opts.maxVUs && hooks.vuSetup === undefined) {
        const fresh = allocate();
        fresh.ready = true;
        launch(fresh, due);
      } else {
        // k6 semantics: with an async vuSetup the new VU is readied in the background and this start is lost.
        if (allocated < opts.maxVUs) growInBackground();
        run.dropped();
      }
      // Catching up after a stall starts many iterations in one go; let I/O through now and then.
      if (now - lastYield > CATCH_UP_SLICE_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
    }
    // Starts planned before the run stopped that the pacer never reached: the generator was behind
    // (a starved event loop), so they are dropped, not forgotten.
    const stopOff = Math.min(opts.endMs, (run.stoppedAtPerf ?? Number.POSITIVE_INFINITY) - run.t0);
    let missed = 0;
    for (; ; n++) {
      const off = opts.schedule(n);
      if (off === undefined || off >= stopOff) break;
      if (owns === undefined || owns(n)) missed += 1;
    }
    if (missed > 0) {
      planned += missed;
      run.dropped(missed);
    }
    // The window is the whole duration, even when the last start came earlier (rate × duration).
    await clock.until(run.t0 + opts.endMs);
    clock.close();
    if (active > 0) {
      await new Promise<void>((r) => {
        drained = r;
      });
    }
  };
  const result = await run.finish(pacer());
  return { ...result, planned };
}
