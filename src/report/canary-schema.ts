// The `canary` section of results.json (optional; the schema version is not bumped for it): the
// weight steps of a canary ramp, every analysis measurement with its phase, the canary-vs-stable
// judge of each step, the verdict and — for a failed canary — whether it is capacity-shaped or
// code-shaped, with the evidence. Figures that were not measured are null, never 0.
import { z } from 'zod';

const Iso = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0);
const Fin = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v), { message: 'expected a finite number' });
export const PhaseSchema = z.enum(['Pending', 'Running', 'Successful', 'Failed', 'Inconclusive', 'Error']);

const SideSchema = z.object({
  requests: Count,
  answered: Count,
  errors: Count,
  rejected: Count,
  errorRate: Fin.nullable(),
  rejectedRate: Fin.nullable(),
  p50Ms: Fin.nullable(),
  p99Ms: Fin.nullable(),
  meanMs: Fin.nullable(),
});

export const CanaryMetricSchema = z.object({
  name: z.string(),
  template: z.string(),
  phase: PhaseSchema,
  message: z.string(),
  dryRun: z.boolean(),
  query: z.string(),
  measurements: z.array(z.object({ at: Iso, phase: PhaseSchema, value: z.string().nullable(), detail: z.string() })),
});

export const CanaryStepSchema = z.object({
  percent: z.number().min(0).max(100),
  /** The canary's share the weights gave. */
  share: Fin,
  weights: z.record(z.string(), Count),
  startedAt: Iso,
  endedAt: Iso,
  /** Worst of the analysis and the judge. */
  phase: PhaseSchema,
  analysisPhase: PhaseSchema,
  analysisReason: z.string(),
  injected: z.string().nullable(),
  /** A capacity surge that started at this step (`--surge`): offered req/s before and after, the canary's admission change. */
  surge: z
    .object({
      loadFactor: Fin,
      offeredBefore: Fin,
      offeredAfter: Fin,
      admission: z.record(z.string(), z.number()),
    })
    .nullable()
    .default(null),
  metrics: z.array(CanaryMetricSchema),
  judge: z
    .object({
      score: Fin,
      classification: z.enum(['Pass', 'Marginal', 'Fail']),
      reason: z.string().nullable(),
      metrics: z.array(z.object({ name: z.string(), classification: z.string(), deviation: Fin.nullable(), reason: z.string() })),
    })
    .nullable(),
  judgeSkipped: z.string().nullable(),
  canary: SideSchema,
  stable: SideSchema,
});

export const CanarySectionSchema = z.object({
  canary: z.string(),
  server: z.string(),
  stable: z.array(z.string()),
  plannedSteps: z.array(z.number()),
  templates: z.array(z.object({ name: z.string(), kind: z.string(), source: z.string(), args: z.record(z.string(), z.string()) })),
  verdict: z.enum(['promote', 'abort', 'hold-and-scale', 'inconclusive']),
  reason: z.string(),
  classification: z.object({ shape: z.enum(['code-shaped', 'capacity-shaped']), evidence: z.array(z.string()) }).nullable(),
  startedAt: Iso,
  endedAt: Iso,
  abortedAt: Iso.nullable(),
  rolledBackAt: Iso.nullable(),
  /** From the start of the step where the bad version appeared to the end of the rollback. */
  badStepToRollbackSeconds: Fin.nullable(),
  /** Analysis windows (the template's interval) between the bad step's start and the abort. */
  badStepToAbortWindows: Fin.nullable(),
  canaryWeightAfter: Count.nullable(),
  rollbackProblems: z.array(z.string()),
  /** Requests of the canary's own judged traffic. */
  requests: Count,
  /** The gate scenario that ran behind the canary (`--load`), when one did. */
  load: z.object({ scenario: z.string(), profile: z.string(), runs: Count, requests: Count, errors: Count, problems: z.array(z.string()) }).nullable().default(null),
  steps: z.array(CanaryStepSchema),
});
export type CanarySection = z.output<typeof CanarySectionSchema>;
export type CanarySectionInput = z.input<typeof CanarySectionSchema>;
