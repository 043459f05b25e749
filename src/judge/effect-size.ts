// How big a change is, next to whether it is significant. The judge reports the mean ratio as
// the metric's "deviation" whatever measure it classifies with.

export type EffectSizeMeasure = 'meanRatio' | 'cles';

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return values.length === 0 ? Number.NaN : sum / values.length;
}

/** mean(experiment) / mean(control); NaN when either mean is 0 (or a side is empty). */
export function meanRatio(control: ArrayLike<number>, experiment: ArrayLike<number>): number {
  const c = mean(control);
  const e = mean(experiment);
  if (c === 0 || e === 0 || Number.isNaN(c) || Number.isNaN(e)) return Number.NaN;
  return e / c;
}

/**
 * Common-language effect size: the chance that a random experiment value beats a random control
 * value, ties counting one half. It is the Mann–Whitney U of the experiment over n·m, so it
 * comes from the test's own U instead of a second ranking.
 */
export function clesFromU(u: number, nControl: number, nExperiment: number): number {
  return nControl === 0 || nExperiment === 0 ? Number.NaN : u / (nControl * nExperiment);
}
