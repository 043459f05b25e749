// The canary-vs-stable judge: classify every metric (classifier.ts), score the classifications
// (scorer.ts), and return both with the evidence behind each. Pure: no I/O, no clock, and the
// same input always gives the same result (the only randomness is seeded tie-breaking noise).
import { classifyMetric, type MetricClassification } from './classifier.ts';
import {
  type JudgeConfig,
  JudgeConfigError,
  type JudgeConfigInput,
  JudgeConfigSchema,
  type MetricConfig,
  type MetricConfigInput,
  MetricConfigSchema,
  MetricIdentitySchema,
  parseOrThrow,
  resolveMetricConfig,
} from './config.ts';
import { type GroupScore, type ScoreClassification, scoreMetrics } from './scorer.ts';

export type { Classification, MetricClassification, SideSummary, TestEvidence } from './classifier.ts';
export type { Direction, JudgeConfig, JudgeConfigInput, MetricConfig, MetricConfigInput } from './config.ts';
export { JudgeConfigError, JudgeConfigSchema, MetricConfigSchema } from './config.ts';
export type { GroupScore, ScoreClassification } from './scorer.ts';
export { histogramSamples, type HistogramSamples } from './samples.ts';

export type JudgeMetricInput = {
  name: string;
  /** Group (or groups) the metric scores in. */
  group: string | readonly string[];
  /** Stable / baseline values. */
  control: ArrayLike<number>;
  /** Canary / new values. */
  experiment: ArrayLike<number>;
} & MetricConfigInput;

export interface MetricResult extends MetricClassification {
  groups: string[];
  muted: boolean;
  config: MetricConfig;
}

export interface JudgeResult {
  /** 0–100. */
  score: number;
  classification: ScoreClassification;
  /** Set when an override (critical metric, too much missing data, nothing to judge) decided the score. */
  reason: string | null;
  groups: GroupScore[];
  metrics: MetricResult[];
  config: JudgeConfig;
}

function checkValues(values: unknown, where: string): ArrayLike<number> {
  const isArrayLike = Array.isArray(values) || values instanceof Float64Array || values instanceof Float32Array;
  if (!isArrayLike) throw new JudgeConfigError(`${where}: expected an array of numbers`);
  const arr = values as ArrayLike<unknown>;
  for (let i = 0; i < arr.length; i++) {
    if (typeof arr[i] !== 'number') throw new JudgeConfigError(`${where}[${i}]: expected a number, got ${typeof arr[i]}`);
  }
  return arr as ArrayLike<number>;
}

export function judge(config: JudgeConfigInput, metrics: readonly JudgeMetricInput[]): JudgeResult {
  const cfg = parseOrThrow(JudgeConfigSchema, config, 'judge config');
  const seen = new Set<string>();
  const results: MetricResult[] = metrics.map((m, i) => {
    const id = parseOrThrow(MetricIdentitySchema, m, `metrics[${i}]`);
    if (seen.has(id.name)) throw new JudgeConfigError(`metrics[${i}]: metric ${id.name} appears twice`);
    seen.add(id.name);
    const metricCfg = resolveMetricConfig(parseOrThrow(MetricConfigSchema, m, `metric ${id.name}`));
    const control = checkValues(m.control, `metric ${id.name}: control`);
    const experiment = checkValues(m.experiment, `metric ${id.name}: experiment`);
    const classified = classifyMetric(id.name, control, experiment, metricCfg, cfg);
    return { ...classified, groups: typeof id.group === 'string' ? [id.group] : [...id.group], muted: metricCfg.muted, config: metricCfg };
  });
  const scored = scoreMetrics(results, cfg);
  return { score: scored.score, classification: scored.classification, reason: scored.reason, groups: scored.groups, metrics: results, config: cfg };
}
