import { z } from 'zod';
import { positiveDurationMs } from '../../util/duration.ts';
import { checkVuPool, commonFields, MAX_VUS } from './config-schema.ts';
import { ExecutorRun, waitStartTime } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';
import { constantSchedule } from './arrival-schedule.ts';
import { runOpenModel } from './pacer.ts';

export const constantArrivalRateSchema = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    /** starts per timeUnit */
    rate: z.number().positive().max(1_000_000),
    timeUnit: positiveDurationMs.default(1_000),
    duration: positiveDurationMs,
    preAllocatedVUs: z.number().int().min(0).max(MAX_VUS),
    /** defaults to preAllocatedVUs */
    maxVUs: z.number().int().min(1).max(MAX_VUS).optional(),
    ...commonFields,
  })
  .strict()
  .superRefine(checkVuPool);

export type ConstantArrivalRateConfig = z.output<typeof constantArrivalRateSchema>;

/** Open model: `rate` starts per `timeUnit`, evenly spaced, for `duration`; busy VUs mean dropped starts. */
export async function runConstantArrivalRate<S>(cfg: ConstantArrivalRateConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  return runOpenModel(run, hooks, {
    schedule: constantSchedule(cfg.rate, cfg.timeUnit, cfg.duration),
    preAllocatedVUs: cfg.preAllocatedVUs,
    maxVUs: Math.max(cfg.maxVUs ?? cfg.preAllocatedVUs, cfg.preAllocatedVUs),
    gracefulStopMs: cfg.gracefulStop,
    endMs: cfg.duration,
  });
}
