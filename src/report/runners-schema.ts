// The `runners` section of results.json: who measured a distributed run, and how much of the
// plan each did. Optional: a single-process run has none.
import { z } from 'zod';

const Count = z.number().int().min(0);
const Ms = z.number().min(0);

export const RunnerStateSchema = z.enum(['reported', 'incomplete', 'missing']);

export const RunnerEntrySchema = z.object({
  /** 1-based position in the run's segment sequence (`--shard i/N`). */
  index: z.number().int().min(1),
  /** The runner's own id (`--runner-id`); null for a runner that never reported. */
  id: z.string().nullable(),
  /** Its execution segment, e.g. `1/3:2/3`. */
  segment: z.string(),
  /** reported: every scenario measured · incomplete: stopped early · missing: no result file. */
  state: RunnerStateSchema,
  saturated: z.boolean(),
  /** Why it is saturated, incomplete or missing. */
  reasons: z.array(z.string()).default([]),
  host: z.string().optional(),
});

export const RunnerScenarioSchema = z.object({
  index: z.number().int().min(1),
  /** Starts the runner's executor planned (null for the duration-based closed executors). */
  planned: Count.nullable(),
  started: Count,
  dropped: Count,
  interrupted: Count,
  requests: Count,
  errors: Count,
  /** This runner's own P95, ms — for reading only: the run's percentiles come from the merged histograms. */
  p95: Ms.nullable(),
});

export const RunnersSectionSchema = z.object({
  /** Runners the run was planned with. */
  expected: z.number().int().min(1),
  /** The segment sequence all runners shared. */
  sequence: z.string(),
  runners: z.array(RunnerEntrySchema),
  scenarios: z.array(z.object({ name: z.string(), runners: z.array(RunnerScenarioSchema) })).default([]),
  /** What the run proves, e.g. that N runners on one machine prove the protocol and not capacity. */
  note: z.string().optional(),
});

export type RunnersSection = z.output<typeof RunnersSectionSchema>;
export type RunnersSectionInput = z.input<typeof RunnersSectionSchema>;
