import { describe, expect, it } from 'vitest';
import { runEngine, scenario, type EngineProgress } from '../../../src/load/engine.ts';
import { sleep } from '../../../src/util/sleep.ts';
import { hostBusyBetween, readHostTicks } from '../../../src/load/host-cpu.ts';
import { GeneratorMonitor } from '../../../src/load/monitor.ts';
import { waitFor } from '../../../src/util/wait.ts';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // burn the event loop on purpose
  }
};

describe('generator monitor', () => {
  it('a busy loop blocking the event loop for ~300 ms flags saturated', async () => {
    const m = new GeneratorMonitor({ resolutionMs: 10 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    m.start();
    await sleep(100);
    busy(300);
    await sleep(100);
    const v = m.stop();
    const cpu = process.cpuUsage(cpu0);
    // What this process really got of a core meanwhile (a shared machine may give it little).
    const got = (100 * (cpu.user + cpu.system)) / 1000 / (performance.now() - t0);
    expect(v.saturated).toBe(true);
    expect(v.eventLoopMaxMs).toBeGreaterThanOrEqual(250);
    expect(v.eventLoopP99Ms).toBeGreaterThan(50);
    expect(v.reasons.join('\n')).toMatch(/event-loop delay p99 .* > 50 ms/);
    expect(Math.abs(v.cpuPct - got), `monitor ${v.cpuPct} % vs measured ${got.toFixed(1)} %`).toBeLessThan(15);
  });

  it('an idle generator is not saturated', async () => {
    const m = new GeneratorMonitor({ resolutionMs: 10, eventLoopP99Ms: 150 });
    m.start();
    await sleep(300);
    const v = m.stop();
    expect(v.reasons).toEqual([]);
    expect(v.saturated).toBe(false);
    expect(v.pacerLagP99Ms).toBeNull();
  });

  it("reports the host's busy CPU and the generator's share of it (Linux), or no data", async () => {
    const m = new GeneratorMonitor({ resolutionMs: 10, eventLoopP99Ms: 1000 });
    m.start();
    busy(150);
    await sleep(50);
    const v = m.stop();
    if (readHostTicks() === undefined) {
      expect(v.hostCpuPct).toBeNull();
      expect(v.generatorHostSharePct).toBeNull();
      return;
    }
    expect(v.hostCpuPct, JSON.stringify(v)).toBeGreaterThan(0);
    expect(v.hostCpuPct, JSON.stringify(v)).toBeLessThanOrEqual(100);
    // It burned ~150 ms of CPU in ~200 ms: a visible share of whatever the host did meanwhile.
    expect(v.generatorHostSharePct, JSON.stringify(v)).toBeGreaterThan(5);
    expect(v.generatorHostSharePct, JSON.stringify(v)).toBeLessThanOrEqual(100);
  });

  it('host CPU between two readings: busy share of all cores and busy CPU-seconds', () => {
    // 2 cores, 1 s, 200 ticks in all, 150 of them busy (20 stolen) → 75 % of the host, 1.5 CPU-seconds, 10 % steal.
    expect(hostBusyBetween({ busy: 1000, total: 5000, steal: 0 }, { busy: 1150, total: 5200, steal: 20 }, 1, 2)).toEqual({ busyFraction: 0.75, busyCpuSeconds: 1.5, stealFraction: 0.1 });
    expect(hostBusyBetween({ busy: 10, total: 20, steal: 0 }, { busy: 10, total: 20, steal: 0 }, 1, 2)).toBeUndefined();
  });

  it('a late pacer flags saturated', () => {
    const m = new GeneratorMonitor();
    m.start();
    for (let i = 0; i < 100; i++) m.notePacerLag(i < 95 ? 1 : 200);
    const v = m.stop();
    expect(v.pacerLagP99Ms).toBeGreaterThan(150);
    expect(v.reasons.some((r) => r.startsWith('arrival-rate pacer late'))).toBe(true);
  });
});

describe('engine', () => {
  it('runs scenarios concurrently, reports progress about once a second, returns summaries and the run window', async () => {
    const progress: EngineProgress[] = [];
    const r = await runEngine(
      [
        scenario({
          name: 'spike',
          executor: { executor: 'per-vu-iterations', vus: 5, iterations: 4 },
          iteration: async (ctx) => {
            await sleep(5);
            ctx.sink.record({ tags: { scenario: ctx.scenario, step: 'a', method: 'x', status_class: '2xx' }, latencyMs: 5, ok: true });
          },
        }),
        scenario({
          name: 'steady',
          executor: { executor: 'constant-arrival-rate', rate: 20, duration: '1200ms', preAllocatedVUs: 2 },
          iteration: async (ctx) => {
            const ok = ctx.iteration % 4 !== 0;
            ctx.sink.record({
              tags: { scenario: ctx.scenario, step: 'b', method: 'y', status_class: ok ? '2xx' : '5xx' },
              latencyMs: 2 + ctx.startLagMs,
              ok,
              ...(ctx.intendedStart === undefined ? {} : { intendedStart: ctx.intendedStart }),
            });
          },
        }),
      ],
      // Loose generator thresholds: other test files share these two cores.
      { onProgress: (p) => progress.push(p), progressIntervalMs: 300, monitor: { eventLoopP99Ms: 1000, pacerLagP99Ms: 1000 } },
    );
    expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt + 1200);
    expect(r.aborted).toBe(false);
    expect(r.scenarios.map((s) => [s.name, s.result.started])).toEqual([
      ['spike', 20],
      ['steady', 24],
    ]);
    const steady = r.summary.scenarios.find((s) => s.scenario === 'steady');
    expect(steady).toMatchObject({ count: 24, errors: 6, errorRate: 0.25, errorRateOf: 'requests', latencyFrom: 'intended-start' });
    expect(r.summary.scenarios.find((s) => s.scenario === 'spike')).toMatchObject({ count: 20, completed: 20 });
    expect(r.buckets.reduce((a, b) => a + b.count, 0)).toBe(44);
    expect(Object.keys(r.scenarioBuckets).sort()).toEqual(['spike', 'steady']);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const last = progress.at(-1);
    expect(last?.scenarios.map((l) => [l.name, l.state, l.requests])).toEqual([
      ['spike', 'done', 20],
      ['steady', 'done', 24],
    ]);
    expect(progress.some((p) => p.scenarios.some((l) => l.state === 'running' && l.requests > 0))).toBe(true);
    expect(r.monitor, r.monitor.reasons.join('; ')).toMatchObject({ saturated: false });
    expect(r.verdictHint).toBeNull();
  });

  it('a saturated generator makes the run inconclusive', async () => {
    const r = await runEngine([
      scenario({
        name: 'hog',
        executor: { executor: 'per-vu-iterations', vus: 1, iterations: 2 },
        iteration: async () => {
          await sleep(20);
          busy(300);
        },
      }),
    ]);
    expect(r.monitor.saturated).toBe(true);
    expect(r.verdictHint).toBe('inconclusive');
  });

  it("the watchdog allows for VU setup: a slow vuSetup is not an executor overrunning its schedule", async () => {
    let iterations = 0;
    const r = await runEngine(
      [
        scenario({
          name: 'slow-setup',
          // Bound of the executor itself: 100 ms + 0 graceful stop; the watchdog adds 50 ms.
          executor: { executor: 'constant-vus', vus: 2, duration: '100ms', gracefulStop: '0s' },
          setupTimeoutMs: 2_000,
          vuSetup: async () => {
            await sleep(400);
            return undefined;
          },
          iteration: async () => {
            iterations += 1;
            await sleep(10);
          },
        }),
      ],
      { watchdogSlackMs: 50, monitor: { eventLoopP99Ms: 1000 } },
    );
    expect(r.scenarios[0]?.watchdogFired, JSON.stringify(r.scenarios[0]?.result)).toBe(false);
    expect(r.scenarios[0]?.result.setupFailures).toBe(0);
    expect(iterations).toBeGreaterThan(0);
  });

  it('sequential mode runs one scenario after the other', async () => {
    const spans: Record<string, [number, number]> = {};
    const mk = (name: string) =>
      scenario({
        name,
        executor: { executor: 'constant-vus', vus: 2, duration: '150ms', gracefulStop: '1s' },
        iteration: async () => {
          const now = Date.now();
          const s = spans[name];
          spans[name] = s === undefined ? [now, now] : [s[0], now];
          await sleep(10);
        },
      });
    const r = await runEngine([mk('first'), mk('second')], { mode: 'sequential' });
    expect(r.scenarios.map((s) => s.name)).toEqual(['first', 'second']);
    expect((spans.second as [number, number])[0]).toBeGreaterThanOrEqual((spans.first as [number, number])[1]);
  });

  it('abort stops everything promptly and says so', async () => {
    const ctrl = new AbortController();
    let started = 0;
    const p = runEngine(
      [
        scenario({
          name: 'long',
          executor: { executor: 'constant-vus', vus: 3, duration: '1m' },
          iteration: async (ctx) => {
            started += 1;
            await sleep(20, ctx.signal);
          },
        }),
      ],
      { signal: ctrl.signal },
    );
    await waitFor(() => started > 5, { timeoutMs: 5_000, what: 'iterations to start' });
    const t0 = performance.now();
    ctrl.abort();
    const r = await p;
    // Long before the 1-minute duration; room for a busy machine.
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(r.aborted).toBe(true);
    expect(r.scenarios[0]?.result.aborted).toBe(true);
  });

  it('rejects bad scenario config before any load, naming the scenario', () => {
    expect(() => scenario({ name: 'briefing', executor: { executor: 'per-vu-iterations', vus: -1 }, iteration: async () => {} })).toThrow(
      /^scenario "briefing": vus: /,
    );
    const ok = scenario({ name: 'x', executor: { executor: 'per-vu-iterations' }, iteration: async () => {} });
    return expect(runEngine([ok, ok])).rejects.toThrow(/listed twice/);
  });
});
