import { z } from 'zod';
import { positiveDurationMs } from '../../util/duration.ts';
import { commonFields, vusField } from './config-schema.ts';
import { ExecutorRun, waitStartTime, type Vu } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';

export const constantVusSchema = z
  .object({
    executor: z.literal('constant-vus'),
    vus: vusField.default(1),
    duration: positiveDurationMs,
    ...commonFields,
  })
  .strict();

export type ConstantVusConfig = z.output<typeof constantVusSchema>;

/** `vus` VUs loop iterations back to back for `duration` (closed model). */
export async function runConstantVus<S>(cfg: ConstantVusConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  const vus = Array.from({ length: cfg.vus }, (_, i) => run.newVu(i + 1));
  // Like k6, VUs are initialised before the clock starts, so `duration` is all load.
  const ok = await Promise.all(vus.map((vu) => run.setupVu(vu)));
  if (run.stopStarting.signal.aborted) return run.finish(Promise.resolve());
  run.markStart();
  run.scheduleEnd(cfg.duration, cfg.gracefulStop);

  const loop = async (vu: Vu<S>): Promise<void> => {
    run.setActiveVus(1);
    try {
      await run.runIterations(vu, () => run.canStart());
    } finally {
      run.setActiveVus(-1);
    }
  };
  return run.finish(Promise.all(vus.filter((_, i) => ok[i]).map((vu) => loop(vu))));
}
