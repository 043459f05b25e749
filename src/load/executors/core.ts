// Kept for importers outside src/load that still name this file (src/gate/journey.ts,
// src/gate/ws-step.ts); new code imports from index.ts. Each concept has its own file:
// types.ts (what an executor takes and gives), config-schema.ts (shared schema pieces),
// timing.ts (abortable waits), run.ts (the run machinery every executor shares).
export type { IterationContext, IterationFn, ExecutorHooks, ExecutorResult } from './types.ts';
export { formatZodError, MAX_VUS, checkVuPool, vusField, commonFields } from './config-schema.ts';
export { sleepUntil, sleep } from './timing.ts';
export { ExecutorRun, waitStartTime, type Vu } from './run.ts';
