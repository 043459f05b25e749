import { describe, expect, it } from 'vitest';
import { parseExecutorConfig, runExecutor, vuSchedule, type IterationFn } from '../../../src/load/executors/index.ts';
import { sleep } from '../../../src/util/sleep.ts';
import { SampleSink } from '../../../src/load/samples.ts';

const run = <S = undefined>(cfg: unknown, iteration: IterationFn<S>, extra: { signal?: AbortSignal; vuSetup?: (vu: number, s: AbortSignal) => Promise<S> } = {}) => {
  const sink = new SampleSink();
  const p = runExecutor<S>(parseExecutorConfig(cfg), { scenario: 'x', sink, iteration, abandonAfterMs: 500, ...extra });
  return { sink, p };
};

describe('closed-model executors', () => {
  it('per-vu-iterations runs exactly vus × iterations, each VU its own share', async () => {
    const perVu = new Map<number, number[]>();
    const { p, sink } = run({ executor: 'per-vu-iterations', vus: 7, iterations: 5 }, async (ctx) => {
      perVu.set(ctx.vu, [...(perVu.get(ctx.vu) ?? []), ctx.vuIteration]);
      await sleep(Math.random() * 3);
    });
    const r = await p;
    expect(r).toMatchObject({ started: 35, completed: 35, failed: 0, interrupted: 0, dropped: 0, peakVus: 7 });
    expect([...perVu.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const its of perVu.values()) expect(its).toEqual([0, 1, 2, 3, 4]);
    expect(sink.summary().totals.completed).toBe(35);
  });

  it('per-vu-iterations counts failures without stopping the VU', async () => {
    const { p, sink } = run({ executor: 'per-vu-iterations', vus: 2, iterations: 3 }, async (ctx) => {
      if (ctx.vuIteration === 1) throw new Error('flaky');
    });
    const r = await p;
    expect(r).toMatchObject({ started: 6, completed: 4, failed: 2 });
    expect(sink.summary().scenarios[0]?.errorMessages).toEqual([{ message: 'iteration: flaky', count: 2 }]);
  });

  it('shared-iterations splits exactly the total among the VUs', async () => {
    const perVu = new Map<number, number>();
    const seen = new Set<number>();
    const { p } = run({ executor: 'shared-iterations', vus: 4, iterations: 23 }, async (ctx) => {
      perVu.set(ctx.vu, (perVu.get(ctx.vu) ?? 0) + 1);
      seen.add(ctx.iteration);
      await sleep(2);
    });
    const r = await p;
    expect(r.started).toBe(23);
    expect([...perVu.values()].reduce((a, b) => a + b, 0)).toBe(23);
    expect(perVu.size).toBe(4);
    expect(seen.size).toBe(23);
  });

  it('shared-iterations cut short by maxDuration counts the iterations it never began as dropped', async () => {
    // 5,000 planned, each blocking the event loop for 2 ms (a starved generator): ~150 fit in
    // 300 ms. The rest used to vanish (started < planned with 0 dropped).
    const { p, sink } = run({ executor: 'shared-iterations', vus: 25, iterations: 5000, maxDuration: '300ms', gracefulStop: '1s' }, async () => {
      const end = performance.now() + 2;
      while (performance.now() < end) {
        // starve the loop on purpose
      }
      await sleep(1);
    });
    const r = await p;
    const why = JSON.stringify(r);
    expect(r.planned, why).toBe(5000);
    expect(r.started, why).toBeLessThan(5000);
    expect(r.started + r.dropped, why).toBe(5000);
    const sc = sink.summary().scenarios[0];
    expect((sc?.completed ?? 0) + (sc?.failed ?? 0) + (sc?.interrupted ?? 0) + (sc?.dropped ?? 0), why).toBe(5000);
  });

  it('per-vu-iterations: a VU whose setup failed and a VU cut by maxDuration leave their rest as dropped', async () => {
    const { p } = run<undefined>(
      { executor: 'per-vu-iterations', vus: 3, iterations: 20, maxDuration: '200ms', gracefulStop: '1s' },
      async (ctx) => {
        await sleep(ctx.vu === 2 ? 30 : 1);
      },
      {
        vuSetup: async (vu) => {
          if (vu === 3) throw new Error('no session for VU 3');
          return undefined;
        },
      },
    );
    const r = await p;
    const why = JSON.stringify(r);
    expect(r.setupFailures, why).toBe(1);
    expect(r.planned, why).toBe(60);
    // VU 1 finishes its 20; VU 2 (30 ms each) gets ~7 in 200 ms; VU 3 none.
    expect(r.started, why).toBeLessThan(40);
    expect(r.started + r.dropped, why).toBe(60);
  });

  it('an outside abort is not a drop: planned shrinks to what was started', async () => {
    const ctrl = new AbortController();
    const { p } = run({ executor: 'shared-iterations', vus: 2, iterations: 1000, maxDuration: '10s' }, async (ctx) => {
      await sleep(5, ctx.signal);
    }, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 100);
    const r = await p;
    expect(r.aborted).toBe(true);
    expect(r.dropped).toBe(0);
    expect(r.planned).toBe(r.started);
  });

  it('start barrier: no VU starts before every VU is set up, then all start together', async () => {
    const setupDone: number[] = [];
    const firstStart: number[] = [];
    const { p } = run<number>(
      { executor: 'per-vu-iterations', vus: 20, iterations: 1, barrier: true },
      async (ctx) => {
        firstStart.push(performance.now());
        expect(ctx.state).toBe(ctx.vu * 10);
      },
      {
        vuSetup: async (vu) => {
          await sleep(vu * 5); // staggered readiness: 5 ms … 100 ms
          setupDone.push(performance.now());
          return vu * 10;
        },
      },
    );
    const r = await p;
    expect(r.completed).toBe(20);
    expect(r.barrierReleasedAt).toBeTypeOf('number');
    const lastReady = Math.max(...setupDone);
    expect(Math.min(...firstStart)).toBeGreaterThanOrEqual(lastReady);
    // Released together (one resolution), not staggered by their setups; room for a busy machine.
    expect(Math.max(...firstStart) - Math.min(...firstStart)).toBeLessThan(25);
  });

  it('without the barrier, VUs start as soon as each is ready', async () => {
    const firstStart: number[] = [];
    const { p } = run<undefined>({ executor: 'per-vu-iterations', vus: 10, iterations: 1 }, async () => {
      firstStart.push(performance.now());
    }, { vuSetup: async (vu) => { await sleep(vu * 10); return undefined; } });
    await p;
    expect(Math.max(...firstStart) - Math.min(...firstStart)).toBeGreaterThan(50);
  });

  it('constant-vus keeps VUs busy for the duration and starts nothing after it', async () => {
    const starts: number[] = [];
    const { p } = run({ executor: 'constant-vus', vus: 3, duration: '300ms', gracefulStop: '1s' }, async () => {
      starts.push(performance.now());
      await sleep(20);
    });
    const r = await p;
    const end = r.startedAtPerf + 300;
    expect(Math.max(...starts)).toBeLessThanOrEqual(end + 1);
    expect(r.completed).toBe(r.started);
    expect(r.started).toBeGreaterThanOrEqual(3 * 5); // loose: ~45 on an idle machine
    expect(r.endedAt - r.startedAt).toBeGreaterThanOrEqual(299);
    expect(r.endedAt - r.startedAt).toBeLessThan(300 + 2_000);
  });

  it('constant-vus ends even when iterations never touch real I/O (loops are bounded)', async () => {
    const { p } = run({ executor: 'constant-vus', vus: 2, duration: '100ms' }, async () => {});
    const r = await p;
    expect(r.endedAt - r.startedAt).toBeLessThan(1_000);
    expect(r.started).toBeGreaterThan(10);
  });

  it('gracefulStop lets in-flight iterations finish', async () => {
    const { p } = run({ executor: 'constant-vus', vus: 4, duration: '100ms', gracefulStop: '2s' }, async (ctx) => {
      await sleep(250, ctx.signal);
      if (ctx.signal.aborted) throw new Error('aborted');
    });
    const r = await p;
    expect(r).toMatchObject({ started: 4, completed: 4, interrupted: 0 });
  });

  it('after gracefulStop in-flight iterations are aborted and counted as interrupted', async () => {
    const t0 = performance.now();
    const { p, sink } = run({ executor: 'constant-vus', vus: 4, duration: '100ms', gracefulStop: '100ms' }, async (ctx) => {
      await sleep(5_000, ctx.signal);
      if (ctx.signal.aborted) throw new Error('aborted');
    });
    const r = await p;
    // Well before the iterations' 5 s sleep would have ended.
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(r).toMatchObject({ started: 4, completed: 0, interrupted: 4, abandoned: 0 });
    expect(sink.summary().totals.interrupted).toBe(4);
  });

  it('abort stops promptly, even iterations that ignore their signal', async () => {
    const ctrl = new AbortController();
    const t0 = performance.now();
    const { p } = run(
      { executor: 'constant-vus', vus: 3, duration: '30s' },
      async (ctx) => {
        if (ctx.vu === 3) await sleep(2_000); // ignores the signal
        else await sleep(50, ctx.signal);
      },
      { signal: ctrl.signal },
    );
    setTimeout(() => ctrl.abort(), 100);
    const r = await p;
    expect(performance.now() - t0).toBeLessThan(100 + 500 + 300);
    expect(r.aborted).toBe(true);
    expect(r.abandoned).toBe(1);
  });

  it('ramping-vus schedule is a linear step function', () => {
    const { changes, totalMs } = vuSchedule(0, [
      { duration: 400, target: 4 },
      { duration: 200, target: 4 },
      { duration: 0, target: 6 },
      { duration: 300, target: 0 },
    ]);
    expect(totalMs).toBe(900);
    expect(changes).toEqual([
      { atMs: 0, vus: 0 },
      { atMs: 100, vus: 1 },
      { atMs: 200, vus: 2 },
      { atMs: 300, vus: 3 },
      { atMs: 400, vus: 4 },
      { atMs: 600, vus: 6 },
      { atMs: 650, vus: 5 },
      { atMs: 700, vus: 4 },
      { atMs: 750, vus: 3 },
      { atMs: 800, vus: 2 },
      { atMs: 850, vus: 1 },
      { atMs: 900, vus: 0 },
    ]);
  });

  it('ramping-vus follows the stages (VUs seen at checkpoints, from recorded iteration times)', async () => {
    const iters: Array<{ vu: number; start: number; end: number }> = [];
    const { p } = run(
      {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { duration: '800ms', target: 4 }, // +1 VU at 200, 400, 600, 800 ms
          { duration: '800ms', target: 4 },
          { duration: '800ms', target: 0 }, // −1 VU at 1800, 2000, 2200, 2400 ms
        ],
        gracefulRampDown: '1s',
        gracefulStop: '1s',
      },
      async (ctx) => {
        const start = performance.now();
        await sleep(10, ctx.signal);
        iters.push({ vu: ctx.vu, start, end: performance.now() });
      },
    );
    const r = await p;
    const rel = iters.map((i) => ({ ...i, start: i.start - r.startedAtPerf, end: i.end - r.startedAtPerf }));
    const vusIn = (from: number, to: number): number[] =>
      [...new Set(rel.filter((i) => i.start >= from && i.start < to).map((i) => i.vu))].sort((a, b) => a - b);
    expect(vusIn(0, 180)).toEqual([]);
    expect(vusIn(250, 380)).toEqual([1]);
    expect(vusIn(450, 580)).toEqual([1, 2]);
    expect(vusIn(900, 1700)).toEqual([1, 2, 3, 4]);
    expect(vusIn(1850, 1980)).toEqual([1, 2, 3]);
    expect(vusIn(2250, 2380)).toEqual([1]);
    expect(vusIn(2450, 10_000)).toEqual([]);
    // Never more than 4 iterations at once.
    const edges = rel.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
    let cur = 0;
    let peak = 0;
    for (const e of edges) peak = Math.max(peak, (cur += e.d));
    expect(peak).toBe(4);
    expect(r.peakVus).toBe(4);
  });
});
