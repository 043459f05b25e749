import { z } from 'zod';
import { durationMs } from '../../util/duration.ts';
import { commonFields, vusField } from './config-schema.ts';
import { ExecutorRun, waitStartTime, type Vu } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

export const sharedIterationsSchema = z
  .object({
    executor: z.literal('shared-iterations'),
    vus: vusField.default(1),
    iterations: z.number().int().min(1).max(10_000_000).default(1),
    maxDuration: durationMs.default(600_000),
    ...commonFields,
  })
  .strict()
  .refine((c) => c.iterations >= c.vus, {
    message: 'iterations must be >= vus (otherwise some VUs would have nothing to do)',
    path: ['iterations'],
  });

export type SharedIterationsConfig = z.output<typeof sharedIterationsSchema>;

/** `iterations` in total, taken from one shared counter by `vus` VUs as fast as they go. */
export async function runSharedIterations<S>(cfg: SharedIterationsConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  run.markStart();
  run.scheduleEnd(cfg.maxDuration, cfg.gracefulStop);
  let taken = 0;

  const loop = async (vu: Vu<S>): Promise<void> => {
    if (!(await run.setupVu(vu))) return;
    run.setActiveVus(1);
    try {
      await run.runIterations(vu, () => {
        if (taken >= cfg.iterations || !run.canStart()) return false;
        taken += 1;
        return true;
      });
    } finally {
      run.setActiveVus(-1);
    }
  };
  const vus = Array.from({ length: cfg.vus }, (_, i) => run.newVu(i + 1));
  return run.finish(
    Promise.all(vus.map((vu) => loop(vu))),
    () => cfg.iterations - taken,
  );
}
