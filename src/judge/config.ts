// The judge's configuration as data: the whole-analysis settings and each metric's settings,
// with the defaults the canary judge uses (98 % confidence, tolerance 0.25, pass 95 / marginal
// 75). Unknown values are errors, not silently mapped to a default: a typo in `nanStrategy`
// should not quietly change what a metric means.
import { z } from 'zod';

/** Samples per side above which the judge works on a seeded subsample (bench/judge.ts shows why this size). */
export const DEFAULT_MAX_SAMPLES_PER_SIDE = 100_000;

export const DirectionSchema = z.enum(['increase', 'decrease', 'either']);
export type Direction = z.output<typeof DirectionSchema>;

export const MetricConfigSchema = z.object({
  /** Which way is bad: an `increase` metric can only be High, a `decrease` one only Low. */
  direction: DirectionSchema.default('either'),
  /** `remove` drops NaN values; `replace` counts them as 0. */
  nanStrategy: z.enum(['remove', 'replace']).default('remove'),
  /** A critical metric that ends High/Low beyond the critical effect size, Nodata or Error zeroes the score. */
  critical: z.boolean().default(false),
  /** A metric without data fails (NodataFailMetric) instead of being left out of the score. */
  mustHaveData: z.boolean().default(false),
  /** Classified and reported, but left out of the score. */
  muted: z.boolean().default(false),
  outliers: z
    .object({
      strategy: z.enum(['remove', 'keep']).default('keep'),
      outlierFactor: z.number().positive().default(3),
    })
    .prefault({}),
  effectSize: z
    .object({
      measure: z.enum(['meanRatio', 'cles']).default('meanRatio'),
      // Defaults depend on the measure (1.0 for the mean ratio, 0.5 for CLES): resolved below.
      allowedIncrease: z.number().optional(),
      allowedDecrease: z.number().optional(),
      criticalIncrease: z.number().optional(),
      criticalDecrease: z.number().optional(),
    })
    .prefault({}),
});
export type MetricConfigInput = z.input<typeof MetricConfigSchema>;

/** A metric's settings with every default filled in. */
export interface MetricConfig {
  direction: Direction;
  nanStrategy: 'remove' | 'replace';
  critical: boolean;
  mustHaveData: boolean;
  muted: boolean;
  outliers: { strategy: 'remove' | 'keep'; outlierFactor: number };
  effectSize: {
    measure: 'meanRatio' | 'cles';
    allowedIncrease: number;
    allowedDecrease: number;
    criticalIncrease: number;
    criticalDecrease: number;
  };
}

export function resolveMetricConfig(parsed: z.output<typeof MetricConfigSchema>): MetricConfig {
  const e = parsed.effectSize;
  // "No change" on each measure's own scale: a ratio of 1, or a 50 % chance of being higher.
  const neutral = e.measure === 'cles' ? 0.5 : 1.0;
  return {
    ...parsed,
    effectSize: {
      measure: e.measure,
      allowedIncrease: e.allowedIncrease ?? neutral,
      allowedDecrease: e.allowedDecrease ?? neutral,
      criticalIncrease: e.criticalIncrease ?? neutral,
      criticalDecrease: e.criticalDecrease ?? neutral,
    },
  };
}

export const JudgeConfigSchema = z
  .object({
    /** Confidence level of the shift's interval. */
    confidence: z.number().gt(0).lt(1).default(0.98),
    /** The interval must clear ±tolerance × |shift| for High/Low. */
    tolerance: z.number().min(0).default(0.25),
    /** Percent weights per group; groups left out share what remains of 100. */
    groupWeights: z.record(z.string(), z.number().min(0)).default({}),
    scoreThresholds: z
      .object({ pass: z.number().min(0).max(100).default(95), marginal: z.number().min(0).max(100).default(75) })
      .prefault({})
      .refine((t) => t.marginal <= t.pass, { message: 'marginal must not exceed pass' }),
    maxSamplesPerSide: z.number().int().min(100).default(DEFAULT_MAX_SAMPLES_PER_SIDE),
  })
  .refine((c) => Object.values(c.groupWeights).reduce((a, w) => a + w, 0) <= 100, {
    message: 'group weights add up to more than 100',
    path: ['groupWeights'],
  });
export type JudgeConfigInput = z.input<typeof JudgeConfigSchema>;
export type JudgeConfig = z.output<typeof JudgeConfigSchema>;

export const MetricIdentitySchema = z.object({
  name: z.string().min(1),
  /** The group(s) the metric scores in. */
  group: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
});

/** Bad judge input; exit code 2 (usage/config) like every other config error. */
export class JudgeConfigError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'JudgeConfigError';
  }
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new JudgeConfigError(r.error.issues.map((i) => `${where}: ${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('\n'));
}
