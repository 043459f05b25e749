import { z } from 'zod';
import { durationMs } from '../../util/duration.ts';
import { commonFields, vusField } from './config-schema.ts';
import { ExecutorRun, waitStartTime, type Vu } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

export const perVuIterationsSchema = z
  .object({
    executor: z.literal('per-vu-iterations'),
    vus: vusField.default(1),
    iterations: z.number().int().min(1).max(10_000_000).default(1),
    maxDuration: durationMs.default(600_000),
    /** All VUs finish vuSetup, then start their first iteration in the same tick (the 500-user spike). */
    barrier: z.boolean().default(false),
    ...commonFields,
  })
  .strict();

export type PerVuIterationsConfig = z.output<typeof perVuIterationsSchema>;

/** Each VU runs exactly `iterations` iterations (closed model: latency from the actual send). */
export async function runPerVuIterations<S>(cfg: PerVuIterationsConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  run.markStart();
  run.scheduleEnd(cfg.maxDuration, cfg.gracefulStop);

  const loop = async (vu: Vu<S>): Promise<void> => {
    run.setActiveVus(1);
    try {
      await run.runIterations(vu, () => vu.iterations < cfg.iterations && run.canStart());
    } finally {
      run.setActiveVus(-1);
    }
  };

  const vus = Array.from({ length: cfg.vus }, (_, i) => run.newVu(i + 1));
  let loops: Promise<unknown>;
  if (cfg.barrier) {
    const ok = await Promise.all(vus.map((vu) => run.setupVu(vu)));
    if (run.stopStarting.signal.aborted) return run.finish(Promise.resolve());
    run.barrierReleasedAt = Date.now();
    // One synchronous pass: every VU's first request is dispatched before any I/O callback runs.
    loops = Promise.all(vus.filter((_, i) => ok[i]).map((vu) => loop(vu)));
  } else {
    loops = Promise.all(vus.map(async (vu) => ((await run.setupVu(vu)) ? loop(vu) : undefined)));
  }
  // A VU cut short by maxDuration, or whose setup failed, leaves its remaining iterations undone.
  return run.finish(loops, () => vus.reduce((a, vu) => a + Math.max(0, cfg.iterations - vu.iterations), 0));
}
