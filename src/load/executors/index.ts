import { z } from 'zod';
import { formatZodError } from './config-schema.ts';
import type { ExecutorHooks, ExecutorResult } from './types.ts';
import { constantArrivalRateSchema, runConstantArrivalRate } from './constant-arrival-rate.ts';
import { constantVusSchema, runConstantVus } from './constant-vus.ts';
import { perVuIterationsSchema, runPerVuIterations } from './per-vu-iterations.ts';
import { rampingArrivalRateSchema, runRampingArrivalRate } from './ramping-arrival-rate.ts';
import { rampingVusSchema, runRampingVus } from './ramping-vus.ts';
import { sharedIterationsSchema, runSharedIterations } from './shared-iterations.ts';

export * from './types.ts';
export * from './config-schema.ts';
export { ExecutorRun, waitStartTime, type Vu } from './run.ts';
export { perVuIterationsSchema, runPerVuIterations, type PerVuIterationsConfig } from './per-vu-iterations.ts';
export { sharedIterationsSchema, runSharedIterations, type SharedIterationsConfig } from './shared-iterations.ts';
export { constantVusSchema, runConstantVus, type ConstantVusConfig } from './constant-vus.ts';
export { rampingVusSchema, runRampingVus, vuSchedule, type RampingVusConfig, type VuChange } from './ramping-vus.ts';
export { constantArrivalRateSchema, runConstantArrivalRate, type ConstantArrivalRateConfig } from './constant-arrival-rate.ts';
export { rampingArrivalRateSchema, runRampingArrivalRate, type RampingArrivalRateConfig } from './ramping-arrival-rate.ts';
export { constantSchedule, rampingSchedule, type ArrivalSchedule } from './arrival-schedule.ts';

export const EXECUTOR_NAMES = [
  'per-vu-iterations',
  'shared-iterations',
  'constant-vus',
  'ramping-vus',
  'constant-arrival-rate',
  'ramping-arrival-rate',
] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

export const executorConfigSchema = z.discriminatedUnion('executor', [
  perVuIterationsSchema,
  sharedIterationsSchema,
  constantVusSchema,
  rampingVusSchema,
  constantArrivalRateSchema,
  rampingArrivalRateSchema,
]);

/** What a scenario file says (durations as strings). */
export type ExecutorConfigInput = z.input<typeof executorConfigSchema>;
/** After parsing (durations in ms, defaults filled in). */
export type ExecutorConfig = z.output<typeof executorConfigSchema>;

/** Parse an executor block; throws one line naming where and what is wrong. */
export function parseExecutorConfig(input: unknown, where = 'executor'): ExecutorConfig {
  if (typeof input === 'object' && input !== null && 'executor' in input) {
    const name = (input as { executor: unknown }).executor;
    if (typeof name !== 'string' || !(EXECUTOR_NAMES as readonly string[]).includes(name)) {
      throw new Error(`${where}: unknown executor ${JSON.stringify(name)}; expected one of ${EXECUTOR_NAMES.join(', ')}`);
    }
  }
  const r = executorConfigSchema.safeParse(input);
  if (!r.success) throw new Error(`${where}: ${formatZodError(r.error)}`);
  return r.data;
}

/** Longest the executor can run (startTime + schedule + gracefulStop), for outer time bounds. */
export function maxExecutorMs(cfg: ExecutorConfig): number {
  switch (cfg.executor) {
    case 'per-vu-iterations':
    case 'shared-iterations':
      return cfg.startTime + cfg.maxDuration + cfg.gracefulStop;
    case 'constant-vus':
    case 'constant-arrival-rate':
      return cfg.startTime + cfg.duration + cfg.gracefulStop;
    case 'ramping-vus':
      return cfg.startTime + cfg.stages.reduce((a, s) => a + s.duration, 0) + Math.max(cfg.gracefulStop, cfg.gracefulRampDown);
    case 'ramping-arrival-rate':
      return cfg.startTime + cfg.stages.reduce((a, s) => a + s.duration, 0) + cfg.gracefulStop;
  }
}

export function runExecutor<S>(cfg: ExecutorConfig, hooks: ExecutorHooks<S>): Promise<ExecutorResult> {
  switch (cfg.executor) {
    case 'per-vu-iterations':
      return runPerVuIterations(cfg, hooks);
    case 'shared-iterations':
      return runSharedIterations(cfg, hooks);
    case 'constant-vus':
      return runConstantVus(cfg, hooks);
    case 'ramping-vus':
      return runRampingVus(cfg, hooks);
    case 'constant-arrival-rate':
      return runConstantArrivalRate(cfg, hooks);
    case 'ramping-arrival-rate':
      return runRampingArrivalRate(cfg, hooks);
  }
}

export function isOpenModel(cfg: ExecutorConfig): boolean {
  return cfg.executor === 'constant-arrival-rate' || cfg.executor === 'ramping-arrival-rate';
}

export type { ExecutorHooks, ExecutorResult };
