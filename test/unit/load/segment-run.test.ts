// Sharded runners really run their segment: the engine scales closed-model counts, filters the
// open model's arrivals, and numbers iterations and VUs run-wide, so N runners run the plan once.
import { describe, expect, it } from 'vitest';
import { runEngine, scenario } from '../../../src/load/engine.ts';
import { shardTuple } from '../../../src/load/segment.ts';
import type { ExecutorConfigInput } from '../../../src/load/executors/index.ts';

async function runShards(executor: ExecutorConfigInput, n: number) {
  const iterations: number[] = [];
  const vus = new Set<number>();
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      runEngine(
        [
          scenario({
            name: 's',
            executor,
            segment: shardTuple(i + 1, n),
            iteration: async (ctx) => {
              iterations.push(ctx.iteration);
              vus.add(ctx.vu);
            },
          }),
        ],
        { monitor: { eventLoopP99Ms: 10_000, eventLoopMaxMs: 10_000 } },
      ),
    ),
  );
  const results = outcomes.map((o) => (o.scenarios[0] as (typeof o.scenarios)[number]).result);
  return { results, iterations, vus };
}

describe('sharded runs', () => {
  it('per-vu-iterations over 3 runners: 10 VUs × 2 iterations start exactly 20 times, each run-wide number once', async () => {
    const { results, iterations, vus } = await runShards({ executor: 'per-vu-iterations', vus: 10, iterations: 2 }, 3);
    expect(results.map((r) => r.peakVus)).toEqual([4, 3, 3]);
    expect(results.reduce((a, r) => a + r.started + r.dropped, 0)).toBe(20);
    // Run-wide numbers are unique (not necessarily contiguous: each runner walks its own stripes).
    expect(iterations).toHaveLength(20);
    expect(new Set(iterations).size).toBe(20);
    expect([...vus].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('constant-arrival-rate over 3 runners: every arrival of the plan is started or dropped by exactly one runner', async () => {
    // 40/s for 0.5 s is 20 arrivals in the unsharded schedule.
    const { results, iterations } = await runShards({ executor: 'constant-arrival-rate', rate: 40, timeUnit: '1s', duration: '500ms', preAllocatedVUs: 6 }, 3);
    expect(results.reduce((a, r) => a + (r.planned ?? -1), 0)).toBe(20);
    expect(results.reduce((a, r) => a + r.started + r.dropped, 0)).toBe(20);
    expect(new Set(iterations).size).toBe(iterations.length);
    for (const r of results) expect(r.planned).toBeGreaterThan(0);
  });

  it('a runner whose segment holds no VU skips the scenario: 2 VUs over 3 runners', async () => {
    const { results } = await runShards({ executor: 'shared-iterations', vus: 2, iterations: 7 }, 3);
    expect(results.map((r) => r.started + r.dropped)).toEqual([4, 3, 0]);
  });
});
