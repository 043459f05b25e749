// One metric, control against experiment → Pass | High | Low | Nodata | NodataFailMetric | Error,
// with the evidence a report needs to say why.
//
// Order, as in the canary judge: NaN handling, then outlier removal, per side (with, between
// the two, a seeded random subsample when a side exceeds the sample cap); then the
// pre-checks — an empty side is no data; identical samples pass; a single distinct value across
// both sides passes; two constant sides get tiny deterministic noise — and then the rank test.
// High needs the whole confidence interval of the shift above +tolerance × |shift| (so a
// significant but negligible shift is not High) and the effect size at or past its allowed
// limit; Low mirrors it. A critical metric is flagged critical — and zeroes the score — only when
// its High/Low also passes the critical effect size, or when it has no data or errs.
//
// Two deliberate departures from the original judge:
// - An empty side is Nodata under the `replace` NaN strategy too (the original passes it):
//   nothing observed is never a pass here.
// - A critical metric whose classification throws is Error *and* critical, so it fails closed.
// Infinite values are an Error: a shift between samples holding ±∞ is undefined.
import type { MetricConfig } from './config.ts';
import { clesFromU, mean, meanRatio } from './effect-size.ts';
import { mannWhitney } from './mann-whitney.ts';
import { jitterConstant } from './noise.ts';
import { removeOutliers } from './outliers.ts';
import { subsampleInPlace } from './rng.ts';

export type Classification = 'Pass' | 'High' | 'Low' | 'Nodata' | 'NodataFailMetric' | 'Error';

export interface TestSettings {
  confidence: number;
  tolerance: number;
  maxSamplesPerSide: number;
}

export interface SideSummary {
  /** Values given. */
  input: number;
  /** NaN values among them: dropped (`remove`) or counted as 0 (`replace`). */
  nan: number;
  /** Values left after NaN handling when that was above the cap and a seeded random subsample of the cap's size was judged instead; null when not thinned. */
  thinnedFrom: number | null;
  /** Values outside the outlier fences, dropped (outliers.strategy `remove`). */
  outliersRemoved: number;
  /** Values the rank test saw. */
  used: number;
  /** Mean after NaN and outlier handling; null when nothing is left. */
  mean: number | null;
}

export interface TestEvidence {
  /** Mann–Whitney U of the experiment (pairs where it is higher, ties one half). */
  u: number;
  pValue: number;
  /** Hodges–Lehmann shift, experiment − control, in the metric's unit. */
  shift: number;
  ci: { lower: number; upper: number; confidence: number };
  /** tolerance × |shift|: the interval must clear ±band to call a change. */
  band: number;
  effectSize: { measure: MetricConfig['effectSize']['measure']; value: number | null };
  /** Both sides were constant and got tiny seeded noise before the test. */
  noiseAdded: boolean;
}

export interface MetricClassification {
  name: string;
  classification: Classification;
  /** This result zeroes the score (a critical metric that failed critically, had no data or erred). */
  critical: boolean;
  reason: string;
  /** mean(experiment) / mean(control); null when it cannot be computed (a mean of 0, no data). */
  deviation: number | null;
  control: SideSummary;
  experiment: SideSummary;
  /** The rank test's figures; null when a pre-check decided before the test ran. */
  test: TestEvidence | null;
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);
/** Four significant digits for reasons; the exact numbers are in the evidence. */
export const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));

interface Prepared {
  sorted: Float64Array;
  summary: SideSummary;
  infinite: number;
}

const SUBSAMPLE_SEED = 0x7e57_5a3d;

/**
 * NaN handling, the cap, outlier removal; ascending. Above the cap a seeded random subsample is
 * drawn before anything is sorted, so the work past this point (and the sort itself) is bounded
 * by the cap, not by the input.
 */
function prepare(values: ArrayLike<number>, cfg: MetricConfig, cap: number, salt: number): Prepared {
  const buf = new Float64Array(values.length);
  let k = 0;
  let nan = 0;
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isNaN(v)) {
      nan += 1;
      if (cfg.nanStrategy === 'replace') buf[k++] = 0;
      continue;
    }
    if (!Number.isFinite(v)) infinite += 1;
    buf[k++] = v;
  }
  const all = subsampleInPlace(buf, k, cap, SUBSAMPLE_SEED ^ salt).sort();
  const sorted = cfg.outliers.strategy === 'remove' && infinite === 0 ? removeOutliers(all, cfg.outliers.outlierFactor) : all;
  return {
    sorted,
    infinite,
    summary: {
      input: values.length,
      nan,
      thinnedFrom: k > cap ? k : null,
      outliersRemoved: all.length - sorted.length,
      used: sorted.length,
      mean: num(mean(sorted)),
    },
  };
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const constant = (s: Float64Array): boolean => s.length > 0 && s[0] === s[s.length - 1];

export function classifyMetric(
  name: string,
  control: ArrayLike<number>,
  experiment: ArrayLike<number>,
  cfg: MetricConfig,
  settings: TestSettings,
): MetricClassification {
  const c = prepare(control, cfg, settings.maxSamplesPerSide, 1);
  const e = prepare(experiment, cfg, settings.maxSamplesPerSide, 2);
  const base = { name, control: c.summary, experiment: e.summary };
  const deviation = num(meanRatio(c.sorted, e.sorted));

  if (c.infinite > 0 || e.infinite > 0) {
    const where = c.infinite > 0 ? 'control' : 'experiment';
    return { ...base, classification: 'Error', critical: cfg.critical, reason: `${where} holds infinite values: no shift can be estimated`, deviation: null, test: null };
  }

  if (c.sorted.length === 0 || e.sorted.length === 0) {
    const empty = c.sorted.length === 0 && e.sorted.length === 0 ? 'control and experiment' : c.sorted.length === 0 ? 'control' : 'experiment';
    const reason = `no data in ${empty}`;
    if (cfg.mustHaveData && !cfg.critical) return { ...base, classification: 'NodataFailMetric', critical: false, reason: `${reason} (data required)`, deviation: null, test: null };
    return { ...base, classification: 'Nodata', critical: cfg.critical, reason, deviation: null, test: null };
  }

  try {
    let y = c.sorted;
    let x = e.sorted;

    if (sameValues(x, y)) return { ...base, classification: 'Pass', critical: false, reason: 'control and experiment values are identical', deviation, test: null };
    if (constant(x) && constant(y) && x[0] === y[0]) {
      return { ...base, classification: 'Pass', critical: false, reason: `every value on both sides is ${fmt(x[0] as number)}`, deviation, test: null };
    }
    const noiseAdded = constant(x) && constant(y);
    if (noiseAdded) {
      y = jitterConstant(y, 1);
      x = jitterConstant(x, 2);
    }

    const mw = mannWhitney(y, x, { confidence: settings.confidence, sorted: true });
    const band = settings.tolerance * Math.abs(mw.estimate);
    const es = cfg.effectSize;
    const effect = es.measure === 'cles' ? clesFromU(mw.u, mw.n.control, mw.n.experiment) : meanRatio(c.sorted, e.sorted);
    const effectKnown = !Number.isNaN(effect);
    const test: TestEvidence = {
      u: mw.u,
      pValue: mw.pValue,
      shift: mw.estimate,
      ci: { lower: mw.lower, upper: mw.upper, confidence: mw.confidence },
      band,
      effectSize: { measure: es.measure, value: num(effect) },
      noiseAdded,
    };

    const canHigh = cfg.direction === 'increase' || cfg.direction === 'either';
    const canLow = cfg.direction === 'decrease' || cfg.direction === 'either';
    // An effect size that cannot be computed (a mean of 0) does not veto a significant shift.
    const high = canHigh && mw.lower > band && (!effectKnown || effect >= es.allowedIncrease);
    const low = canLow && mw.upper < -band && (!effectKnown || effect <= es.allowedDecrease);

    const ci = `${fmt(mw.confidence * 100)} % CI ${fmt(mw.lower)} … ${fmt(mw.upper)}`;
    const eff = `${es.measure} ${effectKnown ? fmt(effect) : 'n/a'}`;
    if (high || low) {
      const classification = high ? 'High' : 'Low';
      const critical = cfg.critical && (!effectKnown || (high ? effect >= es.criticalIncrease : effect <= es.criticalDecrease));
      const side = high ? `above +${fmt(band)}` : `below −${fmt(band)}`;
      const reason = `experiment ${high ? 'higher' : 'lower'}: shift ${fmt(mw.estimate)} (${ci}) lies ${side}; ${eff}${critical ? ' (critical)' : ''}`;
      return { ...base, classification, critical, reason, deviation, test };
    }
    return { ...base, classification: 'Pass', critical: false, reason: passReason(mw.estimate, mw.lower, mw.upper, band, canHigh, canLow, ci, eff), deviation, test };
  } catch (err) {
    return { ...base, classification: 'Error', critical: cfg.critical, reason: `classification failed: ${err instanceof Error ? err.message : String(err)}`, deviation, test: null };
  }
}

function passReason(shift: number, lower: number, upper: number, band: number, canHigh: boolean, canLow: boolean, ci: string, eff: string): string {
  if (lower > band && !canHigh) return `higher (${ci}), but only a decrease counts for this metric`;
  if (upper < -band && !canLow) return `lower (${ci}), but only an increase counts for this metric`;
  if (lower > band || upper < -band) return `shift ${fmt(shift)} is clear (${ci}) but ${eff} is within the allowed effect size`;
  return `shift ${fmt(shift)}: ${ci} does not clear ±${fmt(band)}`;
}
