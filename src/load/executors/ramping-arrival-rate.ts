import { z } from 'zod';
import { durationMs, positiveDurationMs } from '../../util/duration.ts';
import { checkVuPool, commonFields, MAX_VUS } from './config-schema.ts';
import { ExecutorRun, waitStartTime } from './run.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';
import { rampingSchedule } from './arrival-schedule.ts';
import { runOpenModel } from './pacer.ts';

export const rateStageSchema = z
  .object({ duration: durationMs, target: z.number().min(0).max(1_000_000) })
  .strict();

export const rampingArrivalRateSchema = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    /** starts per timeUnit at t=0 */
    startRate: z.number().min(0).max(1_000_000).default(0),
    timeUnit: positiveDurationMs.default(1_000),
    stages: z.array(rateStageSchema).min(1, 'stages needs at least one {duration, target}').max(1_000),
    preAllocatedVUs: z.number().int().min(0).max(MAX_VUS),
    maxVUs: z.number().int().min(1).max(MAX_VUS).optional(),
    ...commonFields,
  })
  .strict()
  .refine((c) => c.stages.some((s) => s.duration > 0), { message: 'stages must last longer than 0 in total', path: ['stages'] })
  .superRefine(checkVuPool);

export type RampingArrivalRateConfig = z.output<typeof rampingArrivalRateSchema>;

/** Open model with a start rate ramping linearly through the stages. */
export async function runRampingArrivalRate<S>(cfg: RampingArrivalRateConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  const run = new ExecutorRun<S>(cfg.executor, hooks);
  if (!(await waitStartTime(run as ExecutorRun<unknown>, cfg.startTime))) return run.finish(Promise.resolve());
  const totalMs = cfg.stages.reduce((a, s) => a + s.duration, 0);
  return runOpenModel(run, hooks, {
    schedule: rampingSchedule(cfg.startRate, cfg.timeUnit, cfg.stages),
    preAllocatedVUs: cfg.preAllocatedVUs,
    maxVUs: Math.max(cfg.maxVUs ?? cfg.preAllocatedVUs, cfg.preAllocatedVUs),
    gracefulStopMs: cfg.gracefulStop,
    endMs: totalMs,
  });
}
