// The optional `baseline` section of results.json: this run judged against an earlier run,
// scenario by scenario, with each metric's change, its verdict and the statistical evidence the
// verdict rests on. Written by `gate --baseline`; the regressions themselves also appear as
// `baseline: …` thresholds of their scenario, so every format's verdict counts them.
import { z } from 'zod';

const Num = z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v), { message: 'expected a finite number' });
const Count = z.number().int().min(0);
const Verdict = z.enum(['pass', 'fail', 'inconclusive', 'no_data']);

export const BaselineEvidenceSchema = z.union([
  z.object({
    test: z.literal('mann-whitney'),
    /** Two-sided p-value of the rank test; null when a pre-check decided without the test. */
    pValue: Num.nullable(),
    /** Hodges–Lehmann shift new − baseline (ms) and its confidence interval. */
    shiftMs: Num.nullable(),
    ciLowerMs: Num.nullable(),
    ciUpperMs: Num.nullable(),
    confidence: Num,
    /** The interval must clear ±band (ms) for a change to count. */
    bandMs: Num.nullable(),
    /** mean(new) / mean(baseline). */
    meanRatio: Num.nullable(),
    /** Latency samples the test saw on each side (fewer than recorded when thinned). */
    baselineSamples: Count,
    nextSamples: Count,
  }),
  z.object({
    test: z.literal('fisher-exact'),
    /** One-sided p-value: the new run's errors at least this many if both rates were equal. */
    pValue: Num,
    alpha: Num,
  }),
]);

export const BaselineMetricSchema = z.object({
  metric: z.string(),
  unit: z.enum(['ms', 'ratio']),
  baseline: Num.nullable(),
  next: Num.nullable(),
  deltaPct: Num.nullable(),
  /** The judge's word: High (significantly worse), Pass, Low, Nodata, Error. */
  classification: z.string().nullable(),
  verdict: Verdict,
  reason: z.string(),
  evidence: BaselineEvidenceSchema.nullable(),
});

export const BaselineSectionSchema = z.object({
  /** What was asked for: a file, a run folder, or `last-pass`. */
  requested: z.string(),
  /** The baseline run's id and results file; null when none was found (`last-pass` before any run passed). */
  runId: z.string().nullable(),
  file: z.string().nullable(),
  startedAt: z.iso.datetime({ offset: true }).nullable().default(null),
  verdict: Verdict,
  /** Why there is no comparison, when there is none. */
  note: z.string().optional(),
  rules: z.object({
    percentiles: z.array(Num),
    maxIncreasePct: Num,
    errorRateMinIncrease: Num,
    confidence: Num,
    tolerance: Num,
  }),
  scenarios: z
    .array(z.object({ scenario: z.string(), title: z.string(), verdict: Verdict, metrics: z.array(BaselineMetricSchema) }))
    .default([]),
});

export type BaselineSection = z.output<typeof BaselineSectionSchema>;
export type BaselineSectionInput = z.input<typeof BaselineSectionSchema>;
export type BaselineMetric = z.output<typeof BaselineMetricSchema>;
