// When each start of an arrival-rate executor is due: pure functions of the start's number.

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
