import { describe, expect, it } from 'vitest';
import { constantSchedule, parseExecutorConfig, rampingSchedule, runExecutor, type IterationFn } from '../../../src/load/executors/index.ts';
import { sleep } from '../../../src/util/sleep.ts';
import { SampleSink } from '../../../src/load/samples.ts';

/** Block the event loop (a generator starved by its own synchronous work). */
const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // burn on purpose
  }
};

const run = (cfg: unknown, iteration: IterationFn, onPacerLag?: (ms: number) => void) => {
  const sink = new SampleSink();
  const p = runExecutor(parseExecutorConfig(cfg), { scenario: 'open', sink, iteration, abandonAfterMs: 500, ...(onPacerLag ? { onPacerLag } : {}) });
  return { sink, p };
};

describe('arrival-rate schedules', () => {
  it('constant: one start every timeUnit/rate, none at or after the duration', () => {
    const s = constantSchedule(10, 1000, 1000);
    expect([0, 1, 2, 9].map(s)).toEqual([0, 100, 200, 900]);
    expect(s(10)).toBeUndefined();
    const perMinute = constantSchedule(30, 60_000, 10_000);
    expect(perMinute(1)).toBe(2000);
  });

  it('ramping: cumulative starts follow the integral of a linearly ramping rate', () => {
    // 0 → 20/s over 1 s (10 starts), then 20/s for 1 s (20 starts).
    const s = rampingSchedule(0, 1000, [{ duration: 1000, target: 20 }, { duration: 1000, target: 20 }]);
    const times: number[] = [];
    for (let n = 0; n < 1000; n++) {
      const t = s(n);
      if (t === undefined) break;
      times.push(t);
    }
    expect(times).toHaveLength(30);
    expect(times.filter((t) => t < 1000)).toHaveLength(10);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1] as number);
    // N(t) = 10 t² in the ramp: start n sits where N = n + ½.
    expect(times[0]).toBeCloseTo(Math.sqrt(0.5 / 10) * 1000, 6);
    // Steady part: evenly 50 ms apart.
    expect((times[25] as number) - (times[24] as number)).toBeCloseTo(50, 6);
    // A stage at rate 0 produces nothing.
    const pause = rampingSchedule(0, 1000, [{ duration: 500, target: 0 }, { duration: 0, target: 10 }, { duration: 1000, target: 10 }]);
    expect(pause(0)).toBeCloseTo(550, 6);
  });
});

describe('arrival-rate executors (open model)', () => {
  it('the pacer spreads starts evenly: 20/s over 1 s is one start every ~50 ms, not a burst', async () => {
    const starts: Array<{ intended: number; actual: number; lag: number }> = [];
    const { p } = run({ executor: 'constant-arrival-rate', rate: 20, duration: '1s', preAllocatedVUs: 5 }, async (ctx) => {
      starts.push({ intended: ctx.intendedStart ?? Number.NaN, actual: performance.now(), lag: ctx.startLagMs });
      await sleep(5);
    });
    const r = await p;
    expect(r.started).toBe(20);
    expect(r.dropped).toBe(0);
    const rel = starts.map((s) => ({ intended: s.intended - r.startedAtPerf, actual: s.actual - r.startedAtPerf, lag: s.lag }));
    rel.forEach((s, i) => expect(s.intended).toBeCloseTo(i * 50, 6));
    // Actual starts track the intended ones (timer jitter only) …
    const lateness = rel.map((s) => s.actual - s.intended).sort((a, b) => a - b);
    expect(lateness[0]).toBeGreaterThanOrEqual(-0.5);
    expect(lateness[Math.floor(lateness.length * 0.5)]).toBeLessThan(25);
    // … and on-time starts are never bunched: at most 3 in any 100 ms window (a per-second burst
    // would put 20 there). Starts a stalled host made late catch up together; they are left out.
    const onTime = rel.filter((s) => s.actual - s.intended < 20);
    expect(onTime.length).toBeGreaterThanOrEqual(10);
    for (const s of onTime) expect(onTime.filter((o) => o.actual >= s.actual && o.actual < s.actual + 100).length).toBeLessThanOrEqual(3);
    expect(rel.at(-1)?.actual).toBeGreaterThan(900);
    // startLagMs handed to drivers is the same lateness.
    rel.forEach((s) => expect(s.lag).toBeGreaterThanOrEqual(0));
  });

  it('counts dropped iterations when every one of maxVUs is busy (never delays them)', async () => {
    const lags: number[] = [];
    const { p, sink } = run(
      { executor: 'constant-arrival-rate', rate: 20, duration: '500ms', preAllocatedVUs: 1, maxVUs: 2, gracefulStop: '50ms' },
      async (ctx) => {
        await sleep(2_000, ctx.signal);
        if (ctx.signal.aborted) throw new Error('stopped');
      },
      (lag) => lags.push(lag),
    );
    const r = await p;
    expect(r.started).toBe(2);
    expect(r.dropped).toBe(8);
    expect(r.peakVus).toBe(2);
    expect(r.interrupted).toBe(2);
    expect(sink.summary().scenarios[0]?.dropped).toBe(8);
    expect(lags).toHaveLength(10);
    // Never waited for a busy VU (that would be the 2 s iteration); room for a busy machine.
    expect(r.pacerLagMaxMs).toBeLessThan(1_000);
  });

  it('ramping-arrival-rate starts the integral of its stages', async () => {
    const starts: number[] = [];
    const { p } = run(
      { executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '500ms', target: 40 }], preAllocatedVUs: 2, maxVUs: 10 },
      async (ctx) => {
        starts.push((ctx.intendedStart ?? 0) - performance.now());
      },
    );
    const r = await p;
    // ½ · 40/s · 0.5 s planned; every one started, or dropped when a stalled host left the pacer
    // behind at the end (never forgotten).
    expect(r.planned, JSON.stringify(r)).toBe(10);
    expect(r.started + r.dropped + r.interrupted, JSON.stringify(r)).toBe(10);
    expect(r.started, JSON.stringify(r)).toBeGreaterThanOrEqual(5);
  });

  it('a starved event loop loses no planned start: each is started or dropped (started + dropped = planned)', async () => {
    // 1,000 starts/s for 1 s while every iteration blocks the event loop for 4 ms: the pacer can
    // make ~250 starts a second, so it is far behind when the run ends. VUs are never short here,
    // so the old loop counted no drops and simply forgot the starts it never reached.
    const { p, sink } = run(
      { executor: 'constant-arrival-rate', rate: 1000, duration: '1s', preAllocatedVUs: 20, gracefulStop: '2s' },
      async () => {
        busy(4);
        await sleep(1);
      },
    );
    const r = await p;
    const why = JSON.stringify(r);
    expect(r.planned, why).toBe(1000);
    expect(r.started + r.dropped, why).toBe(1000);
    expect(r.dropped, why).toBeGreaterThan(0);
    expect(r.completed + r.failed + r.interrupted, why).toBe(r.started);
    const sc = sink.summary().scenarios[0];
    expect(sc, why).toBeDefined();
    expect((sc?.completed ?? 0) + (sc?.failed ?? 0) + (sc?.interrupted ?? 0) + (sc?.dropped ?? 0), why).toBe(1000);
  });

  it('an aborted run plans only the starts due before the stop, and accounts for each', async () => {
    const ctrl = new AbortController();
    const sink = new SampleSink();
    const p = runExecutor(parseExecutorConfig({ executor: 'constant-arrival-rate', rate: 200, duration: '10s', preAllocatedVUs: 5, gracefulStop: '1s' }), {
      scenario: 'a',
      sink,
      signal: ctrl.signal,
      iteration: async (ctx) => {
        busy(3);
        await sleep(2, ctx.signal);
      },
    });
    setTimeout(() => ctrl.abort(), 400);
    const r = await p;
    const why = JSON.stringify(r);
    // ~80 due in 400 ms (timer slack on a busy machine moves the abort a little).
    expect(r.planned, why).toBeGreaterThanOrEqual(60);
    expect(r.planned, why).toBeLessThan(200);
    expect(r.started + r.dropped, why).toBe(r.planned);
  });

  it('abort stops the pacer promptly', async () => {
    const ctrl = new AbortController();
    const sink = new SampleSink();
    const t0 = performance.now();
    const p = runExecutor(parseExecutorConfig({ executor: 'constant-arrival-rate', rate: 10, duration: '1m', preAllocatedVUs: 2 }), {
      scenario: 'a',
      sink,
      signal: ctrl.signal,
      iteration: async (ctx) => {
        await sleep(10, ctx.signal);
      },
    });
    setTimeout(() => ctrl.abort(), 250);
    const r = await p;
    // Long before the 1-minute duration; room for a busy machine.
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(r.aborted).toBe(true);
    expect(r.started).toBeGreaterThanOrEqual(2);
    expect(r.started).toBeLessThanOrEqual(4);
  });
});
