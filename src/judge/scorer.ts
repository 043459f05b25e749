// From metric classifications to one score and a Pass / Marginal / Fail, as the canary judge's
// weighted-sum scorer does it:
// - muted metrics are left out before anything is counted;
// - a group scores 100 × Pass / (Pass + High + Low + NodataFailMetric): metrics without data
//   (Nodata) or that erred (Error) are neither for nor against it;
// - a group where nothing counted has no score of its own and enters the sum as 100 — it gave
//   no evidence against the experiment (the two overrides below are what stop a run with
//   nothing measured from passing);
// - the summary is Σ group score × weight / 100, rounded to two decimals; groups without a
//   configured weight share what the configured weights leave of 100, equally;
// - any critical result that is not Pass, or Nodata on half the metrics or more, makes it 0.
import type { Classification } from './classifier.ts';

export type ScoreClassification = 'Pass' | 'Marginal' | 'Fail';

export interface ScoredMetric {
  name: string;
  groups: readonly string[];
  classification: Classification;
  critical: boolean;
  muted: boolean;
  reason: string;
}

export interface GroupScore {
  name: string;
  /** 0–100; null when no metric in the group counted (it then enters the summary as 100). */
  score: number | null;
  /** Percent weight it had in the summary. */
  weight: number;
  /** Unmuted metrics of the group, by classification. */
  counts: Record<Classification, number>;
}

export interface ScoreResult {
  score: number;
  classification: ScoreClassification;
  groups: GroupScore[];
  /** Why the score is what it is, when an override or an empty judge decided it. */
  reason: string | null;
}

/** Nodata on this share of the metrics (percent) or more zeroes the score. */
export const NODATA_LIMIT_PCT = 50;

const zeroCounts = (): Record<Classification, number> => ({ Pass: 0, High: 0, Low: 0, Nodata: 0, NodataFailMetric: 0, Error: 0 });

/** Two decimals, half away from zero, without binary noise turning 94.995 into 94.99. */
export function round2(x: number): number {
  return Math.round(Number((x * 100).toPrecision(12))) / 100;
}

export function classifyScore(score: number, thresholds: { pass: number; marginal: number }): ScoreClassification {
  if (score >= thresholds.pass) return 'Pass';
  if (score >= thresholds.marginal) return 'Marginal';
  return 'Fail';
}

export function scoreMetrics(
  metrics: readonly ScoredMetric[],
  opts: { groupWeights: Readonly<Record<string, number>>; scoreThresholds: { pass: number; marginal: number } },
): ScoreResult {
  const live = metrics.filter((m) => !m.muted);
  const byGroup = new Map<string, Record<Classification, number>>();
  for (const m of live) {
    for (const g of m.groups) {
      let counts = byGroup.get(g);
      if (counts === undefined) byGroup.set(g, (counts = zeroCounts()));
      counts[m.classification] += 1;
    }
  }

  const configured = Object.values(opts.groupWeights).reduce((a, w) => a + w, 0);
  const unweighted = [...byGroup.keys()].filter((g) => opts.groupWeights[g] === undefined);
  const shared = unweighted.length > 0 ? (100 - configured) / unweighted.length : 0;

  const groups: GroupScore[] = [];
  let sum = 0;
  for (const [name, counts] of byGroup) {
    const denominator = counts.Pass + counts.High + counts.Low + counts.NodataFailMetric;
    const score = denominator === 0 ? null : (100 * counts.Pass) / denominator;
    const weight = opts.groupWeights[name] ?? shared;
    sum += (score ?? 100) * (weight / 100);
    groups.push({ name, score, weight, counts });
  }

  const result = (score: number, reason: string | null): ScoreResult => ({ score, classification: classifyScore(score, opts.scoreThresholds), groups, reason });
  if (live.length === 0) return result(0, 'no unmuted metrics to judge');
  const criticalFailure = live.find((m) => m.critical && m.classification !== 'Pass');
  if (criticalFailure !== undefined) return result(0, `critical metric ${criticalFailure.name} is ${criticalFailure.classification}: ${criticalFailure.reason}`);
  const nodata = live.filter((m) => m.classification === 'Nodata').length;
  if ((100 * nodata) / live.length >= NODATA_LIMIT_PCT) return result(0, `${nodata} of ${live.length} metrics had no data (limit: under ${NODATA_LIMIT_PCT} %)`);
  return result(round2(sum), null);
}
