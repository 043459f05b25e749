// PromQL thresholds, judged over a run window [start, end].
//
// instant: one query at `end`; `$__range` / `$__interval` become the run duration, so
//   `rate(x[$__interval])` is the rate over the whole run.
// range:   one range query over the run; every step is a window judged on its own, and the
//   threshold fails only after `window.consecutive` failing windows in a row on one series
//   (Argo Rollouts' consecutive failure limit). `$__interval` becomes the step there.
// `$__rate_interval` is `$__interval` but never shorter than 4 scrape intervals, so rate()
// always has enough samples.
//
// No series, or only NaN values, is `no_data` — never a pass. With several series each must
// pass; the worst one is reported.
import { formatLabels, type InstantResult, type Labels, type PromClient, type RangeSeries } from '../prom/client.ts';
import type { PromThreshold } from '../config/prom-threshold.ts';
import { measurable, promErrorReason, whyNotMeasurable } from '../prom/read.ts';
import { substitutePlaceholders } from '../prom/syntax.ts';
import { Track } from './track.ts';
import { compare, worse, type RegressionOutcome, type ThresholdResult, type Verdict } from './types.ts';

/** The same threshold's observed value in a baseline run; null/undefined when it had none. */
export type BaselineLookup = (name: string) => number | null | undefined;

export interface RunWindow {
  start: Date;
  end: Date;
  /** The target's scrape interval; sizes `$__rate_interval` and the settle wait. Default 15 s. */
  scrapeIntervalSeconds?: number;
  baseline?: BaselineLookup;
  /**
   * Wait (at most two scrape intervals) until the last samples of the run have been scraped
   * before querying. Default true.
   */
  settle?: boolean;
}

/** Prometheus accepts at most 11,000 points per series in a range query. */
const MAX_POINTS = 11_000;

// ── evaluation ───────────────────────────────────────────────────────────────

/**
 * Where an instant query over the run is evaluated, and how far back it looks: from one scrape
 * before the start (so increase() has a sample from before the first event) to two scrapes
 * after the end (so the events of the last moments have been scraped; settle() waits for that).
 * Evaluating at the end over exactly the run's length misses both, and a burst shorter than a
 * scrape interval would read as zero.
 */
export function instantWindow(w: Pick<RunWindow, 'start' | 'end' | 'scrapeIntervalSeconds'>): { at: Date; rangeS: number } {
  const scrape = w.scrapeIntervalSeconds ?? 15;
  const durationS = Math.max(1, Math.ceil((w.end.getTime() - w.start.getTime()) / 1000));
  return { at: new Date(w.end.getTime() + 2 * scrape * 1000), rangeS: durationS + 3 * scrape };
}

export async function evaluatePromThreshold(client: PromClient, t: PromThreshold, w: RunWindow): Promise<ThresholdResult> {
  const scrape = w.scrapeIntervalSeconds ?? 15;
  const durationS = Math.max(1, Math.ceil((w.end.getTime() - w.start.getTime()) / 1000));
  if (w.settle !== false) await settle(w.end, scrape);

  let result: ThresholdResult;
  if (t.mode === 'instant') {
    const { at, rangeS } = instantWindow(w);
    const query = substitutePlaceholders(t.query, { range: rangeS, interval: rangeS, rateInterval: Math.max(rangeS, 4 * scrape) });
    result = await instantVerdict(client, t, query, at);
  } else {
    const window = t.window!;
    const step = Math.max(window.step, Math.ceil(durationS / MAX_POINTS));
    const query = substitutePlaceholders(t.query, { range: durationS, interval: step, rateInterval: Math.max(step, 4 * scrape) });
    result = await rangeVerdict(client, t, query, w, step, window.consecutive);
  }
  if (t.regression) result = withRegression(result, t.regression.maxIncreasePct, w.baseline?.(t.name));
  return result;
}

export async function evaluatePromThresholds(client: PromClient, list: PromThreshold[], w: RunWindow): Promise<ThresholdResult[]> {
  if (w.settle !== false) await settle(w.end, w.scrapeIntervalSeconds ?? 15);
  return mapLimit(list, 4, (t) => evaluatePromThreshold(client, t, { ...w, settle: false }));
}

function base(t: PromThreshold, query: string): Omit<ThresholdResult, 'observed' | 'verdict' | 'detail'> {
  const r: Omit<ThresholdResult, 'observed' | 'verdict' | 'detail'> = { name: t.name, source: 'promql', expr: `${t.query} ${t.op} ${t.value}`, query };
  if (t.unit !== undefined) r.unit = t.unit;
  return r;
}

function noDataFromError(err: unknown): string {
  // A bug in ClawStorm (not a bad answer) must not be dressed up as missing data.
  return promErrorReason(err);
}

async function instantVerdict(client: PromClient, t: PromThreshold, query: string, at: Date): Promise<ThresholdResult> {
  const b = base(t, query);
  let res: InstantResult;
  try {
    res = await client.instant(query, at);
  } catch (err) {
    return { ...b, observed: null, verdict: 'no_data', detail: noDataFromError(err) };
  }
  let series: { labels: Labels; v: number }[];
  if (res.type === 'vector') series = res.series;
  else if (res.type === 'scalar') series = [{ labels: {}, v: res.v }];
  else return { ...b, observed: null, verdict: 'no_data', detail: `query returned a ${res.type}; expected an instant vector or scalar` };

  if (series.length === 0) {
    return { ...b, observed: null, verdict: 'no_data', detail: 'query returned no series (an absent series is not a zero)' };
  }
  const measured = series.filter((s) => measurable(s.v, query));
  const unmeasured = series.filter((s) => !measurable(s.v, query));
  if (measured.length === 0) {
    return { ...b, observed: null, verdict: 'no_data', detail: `all ${series.length} series answered ${whyNotMeasurable(unmeasured[0]!.v)}` };
  }
  let worst = measured[0]!;
  for (const s of measured) if (worse(worst.v, s.v, t.op, t.value) !== worst.v) worst = s;
  const failing = measured.filter((s) => !compare(s.v, t.op, t.value)).length;
  const where = series.length > 1 ? ` on ${formatLabels(worst.labels)}` : '';
  const warned = res.warnings !== undefined && res.warnings.length > 0;
  const extra = [
    series.length > 1 ? `${failing}/${measured.length} series failing` : '',
    unmeasured.length > 0 ? `${unmeasured.length} of ${series.length} series answered ${whyNotMeasurable(unmeasured[0]!.v)}` : '',
    warned ? `Prometheus warned: ${res.warnings!.join('; ')}` : '',
  ].filter(Boolean);
  // A measured failure stands; a pass over part of the series (or a warned, possibly partial
  // answer) is not evidence that every series passed.
  const verdict = failing > 0 ? 'fail' : unmeasured.length > 0 || warned ? 'inconclusive' : 'pass';
  return {
    ...b,
    observed: worst.v,
    verdict,
    detail: `${verdict === 'fail' ? 'observed' : 'worst'} ${worst.v}${where} ${verdict === 'fail' ? 'violates' : 'meets'} ${t.op} ${t.value}${extra.length ? ` (${extra.join(', ')})` : ''}`,
  };
}

async function rangeVerdict(client: PromClient, t: PromThreshold, query: string, w: RunWindow, step: number, consecutive: number): Promise<ThresholdResult> {
  const b = base(t, query);
  const endS = w.end.getTime() / 1000;
  // The first window starts one step after the run does, so no window reaches before the run.
  const startS = Math.min(w.start.getTime() / 1000 + step, endS);
  let series: RangeSeries[];
  try {
    series = await client.range(query, startS, endS, step);
  } catch (err) {
    return { ...b, observed: null, verdict: 'no_data', detail: noDataFromError(err) };
  }
  if (series.length === 0) {
    return { ...b, observed: null, verdict: 'no_data', detail: 'query returned no series over the run (an absent series is not a zero)' };
  }
  const judged = series.map((s) => ({ labels: s.labels, ...judgeSeries(s, { ...t, query }, consecutive) }));
  const measured = judged.filter((j) => j.worst !== undefined);
  if (measured.length === 0) {
    return { ...b, observed: null, verdict: 'no_data', detail: `no series has a measurable value over the run (${series.length} series: NaN or ±Inf throughout)` };
  }
  let worstSeries = measured[0]!;
  for (const j of measured) if (worse(worstSeries.worst!.v, j.worst!.v, t.op, t.value) !== worstSeries.worst!.v) worstSeries = j;
  const longest = judged.reduce((best, j) => (j.longestStreak > best.longestStreak ? j : best), judged[0]!);
  const failed = judged.some((j) => j.failedAt !== undefined);
  const w0 = worstSeries.worst!;
  const where = series.length > 1 ? ` on ${formatLabels(worstSeries.labels)}` : '';
  const streakWhere = series.length > 1 && failed ? ` on ${formatLabels(longest.labels)}` : '';
  return {
    ...b,
    observed: w0.v,
    verdict: failed ? 'fail' : 'pass',
    detail:
      `worst ${w0.v}${where} at ${new Date(w0.t * 1000).toISOString()}; longest run of failing ${step}s windows ` +
      `${longest.longestStreak}${streakWhere} (fails at ${consecutive} consecutive, ${t.op} ${t.value} must hold)`,
  };
}

/**
 * One series' windows judged as a track: each window a measurement, failing after `consecutive`
 * failing windows in a row. A missing step (scrape gap) or a value that is not a measurement
 * (NaN, a non-quantile ±Inf) is an Error measurement: it neither counts as a failure nor resets
 * the streak — a gap must not launder a failing run into a pass — and gaps never end the
 * judgement on their own.
 */
export function judgeSeries(s: RangeSeries, t: Pick<PromThreshold, 'op' | 'value' | 'query'>, consecutive: number): { longestStreak: number; worst: { t: number; v: number } | undefined; failedAt: number | undefined } {
  const points = [...s.points].sort((a, b) => a.t - b.t);
  const track = new Track(
    { name: t.query, intervalMs: 1, count: Math.max(1, points.length), failureLimit: -1, consecutiveFailureLimit: consecutive - 1, consecutiveErrorLimit: Number.MAX_SAFE_INTEGER },
    0,
  );
  let longestStreak = 0;
  // Reported only (the track decides): how long the longest failing run lasted.
  let streak = 0;
  let worst: { t: number; v: number } | undefined;
  let failedAt: number | undefined;
  for (const p of points) {
    const ok = measurable(p.v, t.query);
    if (ok && (worst === undefined || worse(worst.v, p.v, t.op, t.value) !== worst.v)) worst = p;
    const phase = !ok ? 'Error' : compare(p.v, t.op, t.value) ? 'Successful' : 'Failed';
    // Keep counting the longest streak after the track has failed: the report shows how long it lasted.
    if (!track.done) track.add({ phase, value: ok ? p.v : null, detail: '', at: p.t * 1000 });
    if (track.phase === 'Failed' && failedAt === undefined) failedAt = p.t;
    if (phase === 'Failed') longestStreak = Math.max(longestStreak, (streak += 1));
    else if (phase === 'Successful') streak = 0;
  }
  return { longestStreak, worst, failedAt };
}

/** Fold a baseline comparison into a result: the threshold fails on either failing. */
export function withRegression(r: ThresholdResult, maxIncreasePct: number, baseline: number | null | undefined): ThresholdResult {
  const b = baseline ?? null;
  let reg: RegressionOutcome;
  let note: string;
  if (r.observed === null) {
    reg = { maxIncreasePct, baseline: b, changePct: null, verdict: 'no_data' };
    note = 'regression: nothing observed to compare';
  } else if (b === null || Number.isNaN(b)) {
    reg = { maxIncreasePct, baseline: null, changePct: null, verdict: 'no_data' };
    note = 'regression: the baseline has no value for this threshold';
  } else {
    const changePct = b === 0 ? (r.observed === 0 ? 0 : r.observed > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY) : ((r.observed - b) / Math.abs(b)) * 100;
    const ok = changePct <= maxIncreasePct;
    reg = { maxIncreasePct, baseline: b, changePct, verdict: ok ? 'pass' : 'fail' };
    note = `regression: ${formatPct(changePct)} vs baseline ${b} (limit +${maxIncreasePct}%)`;
  }
  return { ...r, verdict: combineTwo(r.verdict, reg.verdict), detail: `${r.detail}; ${note}`, regression: reg };
}

function formatPct(p: number): string {
  if (!Number.isFinite(p)) return p > 0 ? '+∞%' : '−∞%';
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
}

function combineTwo(a: Verdict, b: Verdict): Verdict {
  if (a === 'fail' || b === 'fail') return 'fail';
  if (a === 'no_data' || b === 'no_data') return 'no_data';
  return 'pass';
}

/** Wait until the run's last samples have had two scrape intervals (and a little) to land. */
export async function settle(end: Date, scrapeSeconds: number): Promise<void> {
  const cap = 2 * scrapeSeconds * 1000 + 250;
  const waitMs = Math.min(cap, end.getTime() + cap - Date.now());
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
