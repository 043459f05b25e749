// What counts as a regression against a baseline run, as data a target profile can embed.
// The defaults are the plan's canary rule: P99 worse by more than 15 % (and the judge finding
// the latency significantly higher), error rate up beyond noise, at 98 % confidence.
import { z } from 'zod';
import { DEFAULT_MAX_SAMPLES_PER_SIDE } from '../judge/config.ts';

export const BaselineRulesSchema = z.object({
  latency: z
    .object({
      enabled: z.boolean().default(true),
      /** Latency percentiles to compare, each its own row. */
      percentiles: z.array(z.number().gt(0).max(100)).min(1).default([99]),
      /** A percentile may grow by this much (percent of the baseline) before it can fail. */
      maxIncreasePct: z.number().min(0).default(15),
    })
    .prefault({}),
  errorRate: z
    .object({
      enabled: z.boolean().default(true),
      /** Smallest rise of the error rate (absolute, 0–1) that can fail, on top of the test. */
      minIncrease: z.number().min(0).max(1).default(0),
    })
    .prefault({}),
  /** Confidence of the judge's interval, and 1 − the error-rate test's significance level. */
  confidence: z.number().gt(0).lt(1).default(0.98),
  /** The judge's tolerance band, as a fraction of the estimated shift. */
  tolerance: z.number().min(0).default(0.25),
  /** Latency samples per run above which the histogram is thinned proportionally. */
  maxSamplesPerSide: z.number().int().min(100).default(DEFAULT_MAX_SAMPLES_PER_SIDE),
});
export type BaselineRulesInput = z.input<typeof BaselineRulesSchema>;
export type BaselineRules = z.output<typeof BaselineRulesSchema>;
