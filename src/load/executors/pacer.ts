import type { ExecutorRun, Vu } from './run.ts';
import { sleepUntil } from './timing.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

/** Offset (ms from start) of the n-th start, or undefined when the schedule has ended. */
export type ArrivalSchedule = (n: number) => number | undefined;

/** Even spacing: start n at n·timeUnit/rate, so 10/s is one start every 100 ms, never a burst per second. */
export function constantSchedule(rate: number, timeUnitMs: number, durationMs: number): ArrivalSchedule {
  const interval = timeUnitMs / rate;
  return (n) => {
    const at = n * interval;
    return at < durationMs ? at : undefined;
  };
}

interface RateStage {
  startMs: number;
  durationMs: number;
  /** starts per ms at the beginning and end of the stage */
  r0: number;
  r1: number;
  /** starts scheduled before this stage */
  before: number;
  /** starts within this stage */
  within: number;
}

/**
 * Rate ramps linearly within each stage; start n is at the time t where the cumulative count
 * ∫rate reaches n + ½ (closed form of the quadratic per stage), so starts stay evenly spread as the
 * rate changes instead of being batched per second.
 */
export function rampingSchedule(
  startRate: number,
  timeUnitMs: number,
  stages: ReadonlyArray<{ duration: number; target: number }>,
): ArrivalSchedule {
  const out: RateStage[] = [];
  let t = 0;
  let rate = startRate / timeUnitMs;
  let before = 0;
  for (const st of stages) {
    const r1 = st.target / timeUnitMs;
    const within = ((rate + r1) / 2) * st.duration;
    out.push({ startMs: t, durationMs: st.duration, r0: rate, r1, before, within });
    before += within;
    t += st.duration;
    rate = r1;
  }
  const total = before;
  const totalMs = t;
  let idx = 0; // n only grows, so the stage search only moves forward
  return (n) => {
    // Start n sits in the middle of the n-th unit of cumulative arrivals: even spacing at a steady
    // rate, and a ramp from 0 does not fire at t=0.
    const target = n + 0.5;
    if (target > total) return undefined;
    while (idx < out.length) {
      const s = out[idx] as RateStage;
      if (target <= s.before + s.within && s.within > 0) {
        const m = target - s.before;
        const a = (s.r1 - s.r0) / (2 * s.durationMs);
        const b = s.r0;
        // Root of a·x² + b·x − m = 0 in the stable form (also right when a = 0).
        const x = (2 * m) / (b + Math.sqrt(b * b + 4 * a * m));
        const at = s.startMs + Math.min(Math.max(x, 0), s.durationMs);
        return at < totalMs ? at : undefined;
      }
      idx += 1;
    }
    return undefined;
  };
}

export interface OpenModelOptions {
  schedule: ArrivalSchedule;
  preAllocatedVUs: number;
  maxVUs: number;
  gracefulStopMs: number;
  endMs: number;
}

/**
 * The open-model loop shared by both arrival-rate executors. Each start gets a free VU or is
 * counted as dropped, never delayed; its intended time travels with it so drivers measure
 * latency from when the request should have gone out (wrk2's correction).
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

  const inFlight = new Set<Promise<void>>();
  const launch = (vu: Vu<S>, intended: number): void => {
    run.setActiveVus(1);
    const p = run.runIteration(vu, intended).finally(() => {
      run.setActiveVus(-1);
      inFlight.delete(p);
      if (!vu.signal.aborted) idle.push(vu);
    });
    inFlight.add(p);
  };
  const growInBackground = (): void => {
    const vu = allocate();
    void run.setupVu(vu).then((good) => {
      if (good) idle.push(vu);
    });
  };

  run.markStart();
  run.scheduleEnd(opts.endMs, opts.gracefulStopMs);

  const pacer = async (): Promise<void> => {
    let lastYield = performance.now();
    for (let n = 0; ; n++) {
      const off = opts.schedule(n);
      if (off === undefined) break;
      const due = run.t0 + off;
      if (!(await sleepUntil(due, run.stopStarting.signal))) break;
      const now = performance.now();
      if (!run.canStart()) break;
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
      // Catching up after a stall starts many iterations synchronously; let I/O through now and then.
      if (now - lastYield > 20) {
        lastYield = now;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    // The window is the whole duration, even when the last start came earlier (rate × duration).
    await sleepUntil(run.t0 + opts.endMs, run.stopStarting.signal);
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return run.finish(pacer());
}
