// One analysis run over compiled templates, with Argo Rollouts' semantics: each metric is a Track
// (src/score/track.ts) measured on its own schedule by runTracks (src/score/track-run.ts); a
// measurement is the prometheus provider's answer typed as Argo types it, judged by the metric's
// conditions as Argo's EvaluateResult does. The run ends when every decisive metric is complete,
// when one of them ends Failed, Error or Inconclusive (Argo terminates the run then), when every
// bounded decisive metric is done (unbounded ones watched meanwhile and are terminated with it),
// or when the caller's deadline passes (metrics still running are terminated: an unbounded one
// is Successful).
import type { InstantResult, PromClient } from '../prom/client.ts';
import { promErrorReason } from '../prom/read.ts';
import { runTracks } from '../score/track-run.ts';
import { sleep as sleepFor } from '../util/sleep.ts';
import { effectiveCount, runPhase, Track, type Measurement, type MeasurementPhase, type MetricPhase, type TrackCounters } from '../score/track.ts';
import type { CompiledExpr } from '../expr/index.ts';
import type { AnalysisMetric, AnalysisTemplate } from './analysis-template.ts';

/** What `result` is in a condition: a number for a scalar, numbers for a vector or a matrix. */
export type ProviderResult = number | number[];

export type Typed = { ok: true; result: ProviderResult; value: string } | { ok: false; reason: string };

/** Argo's measurement value text: `0.5`, `[10,11]`, `NaN`. */
export function formatValue(r: ProviderResult): string {
  const one = (x: number) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : String(x));
  return Array.isArray(r) ? `[${r.map(one).join(',')}]` : one(r);
}

/**
 * The prometheus provider's typing (metricproviders/prometheus): scalar → number, vector → one
 * number per series, matrix → every sample of every series flattened. A string is not a metric.
 * An answer Prometheus warned about (a partial response) is not trusted here: Error, where Argo
 * would only log it.
 */
export function typeResult(r: InstantResult): Typed {
  if (r.warnings !== undefined && r.warnings.length > 0) return { ok: false, reason: `Prometheus warned about its answer (${r.warnings.join('; ')}): not trusted` };
  let result: ProviderResult;
  switch (r.type) {
    case 'scalar':
      result = r.v;
      break;
    case 'vector':
      result = r.series.map((s) => s.v);
      break;
    case 'matrix':
      result = r.series.flatMap((s) => s.points.map((p) => p.v));
      break;
    default:
      return { ok: false, reason: `the query answered a ${r.type}; a metric needs a scalar or a vector` };
  }
  return { ok: true, result, value: formatValue(result) };
}

function evalCondition(c: CompiledExpr, result: ProviderResult): boolean {
  const v = c.evaluate({ result });
  if (typeof v !== 'boolean') throw new Error(`condition ${JSON.stringify(c.source)} gave ${Array.isArray(v) ? 'an array' : typeof v}, expected a bool`);
  return v;
}

function nilOrEmpty(r: ProviderResult): boolean {
  return Array.isArray(r) && r.length === 0;
}

/**
 * Argo's EvaluateResult: a condition that cannot be evaluated → Error; neither condition → Successful
 * (the code; the docs say Inconclusive); one condition → the other is its negation; failure wins
 * over success; neither true → Inconclusive.
 */
export function evaluateResult(m: Pick<AnalysisMetric, 'successCondition' | 'failureCondition'>, result: ProviderResult): { phase: MeasurementPhase; detail: string } {
  let success = false;
  let failure = false;
  const attempt = (c: CompiledExpr): boolean | string => {
    try {
      return evalCondition(c, result);
    } catch (err) {
      return nilOrEmpty(result) ? 'metric result is nil or empty: no data returned from the metric provider' : (err as Error).message;
    }
  };
  if (m.successCondition !== undefined) {
    const r = attempt(m.successCondition);
    if (typeof r === 'string') return { phase: 'Error', detail: r };
    success = r;
  }
  if (m.failureCondition !== undefined) {
    const r = attempt(m.failureCondition);
    if (typeof r === 'string') return { phase: 'Error', detail: r };
    failure = r;
  }
  const said = [
    ...(m.successCondition ? [`${m.successCondition.source} → ${success}`] : []),
    ...(m.failureCondition ? [`${m.failureCondition.source} → ${failure}`] : []),
  ].join('; ');
  if (m.successCondition === undefined && m.failureCondition === undefined) return { phase: 'Successful', detail: 'no condition: every answer is Successful' };
  if (m.failureCondition === undefined) failure = !success;
  if (m.successCondition === undefined) success = !failure;
  if (failure) return { phase: 'Failed', detail: said };
  if (!success) return { phase: 'Inconclusive', detail: said };
  return { phase: 'Successful', detail: said };
}

/** One measurement of a metric: query, type, judge. A query that fails is an Error measurement. */
export async function measureMetric(prom: PromClient, m: AnalysisMetric): Promise<Omit<Measurement, 'at'>> {
  let answer: InstantResult;
  try {
    answer = await prom.instant(m.query);
  } catch (err) {
    return { phase: 'Error', value: null, detail: promErrorReason(err) };
  }
  const typed = typeResult(answer);
  if (!typed.ok) return { phase: 'Error', value: null, detail: typed.reason };
  const judged = evaluateResult(m, typed.result);
  return { phase: judged.phase, value: typed.value, detail: judged.detail };
}

export interface MetricRun {
  name: string;
  template: string;
  phase: MetricPhase;
  message: string;
  dryRun: boolean;
  query: string;
  counters: TrackCounters;
  measurements: Measurement[];
}

export interface AnalysisRun {
  phase: MetricPhase;
  /** The metric (and why) that decided a phase other than Successful. */
  reason: string;
  startedAt: number;
  endedAt: number;
  /** Stopped from outside (Ctrl-C, the canary aborting): the phase covers only what was measured. */
  interrupted: boolean;
  metrics: MetricRun[];
  /** Dry-run metrics by phase (Argo's dryRunSummary). */
  dryRunSummary: Record<string, number>;
}

export interface RunAnalysisOptions {
  /** Measures one metric; default: the prometheus provider against `prom`. */
  measure?: (m: AnalysisMetric) => Promise<Omit<Measurement, 'at'>>;
  prom?: PromClient;
  signal?: AbortSignal;
  /** Metrics still running then are terminated (unbounded ones end Successful). */
  deadlineMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
  onMeasurement?: (metric: string, m: Measurement) => void;
}

const TERMINATING: ReadonlySet<MetricPhase> = new Set(['Failed', 'Error', 'Inconclusive']);

export async function runAnalysis(templates: readonly AnalysisTemplate[], opts: RunAnalysisOptions): Promise<AnalysisRun> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const measure = opts.measure ?? ((m: AnalysisMetric) => {
    if (opts.prom === undefined) throw new Error('no Prometheus for this target: the analysis has nothing to query');
    return measureMetric(opts.prom, m);
  });
  const items = templates.flatMap((t) => t.metrics.map((m) => ({ template: t.name, metric: m, track: new Track(m.track, startedAt) })));
  const stop = new AbortController();
  const bounded = items.filter((i) => !i.track.spec.dryRun && effectiveCount(i.track.spec) !== undefined).map((i) => i.track);
  const onOuter = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  const baseSleep = opts.sleep ?? sleepFor;
  // The deadline is kept by the loop's own sleep, so a fake clock in tests keeps it too.
  const sleep = async (ms: number, signal?: AbortSignal): Promise<boolean> => {
    const deadline = opts.deadlineMs;
    if (deadline === undefined) return baseSleep(ms, signal);
    const left = deadline - now();
    if (ms < left) return baseSleep(ms, signal);
    if (left > 0) await baseSleep(left, signal);
    stop.abort();
    return false;
  };
  try {
    await runTracks(
      items.map((i) => ({ track: i.track, measure: () => measure(i.metric) })),
      {
        signal: stop.signal,
        now,
        sleep,
        onMeasurement: (track, m) => {
          opts.onMeasurement?.(track.spec.name, m);
          // Argo terminates the run once a decisive metric is Failed, Error or Inconclusive.
          if (!track.spec.dryRun && TERMINATING.has(track.phase)) stop.abort();
          // A step's analysis ends when its bounded metrics are done; unbounded ones watched the
          // step meanwhile (Argo's background analysis, terminated with its step).
          if (bounded.length > 0 && bounded.every((t) => t.done)) stop.abort();
        },
      },
    );
  } finally {
    opts.signal?.removeEventListener('abort', onOuter);
  }
  const why = opts.signal?.aborted ? 'analysis stopped' : 'analysis terminated';
  for (const i of items) i.track.terminate(why);
  const tracks = items.map((i) => i.track);
  const phase = runPhase(tracks);
  const decider = items.find((i) => !i.track.spec.dryRun && i.track.phase === phase && phase !== 'Successful');
  const dryRunSummary: Record<string, number> = {};
  for (const i of items) if (i.track.spec.dryRun) dryRunSummary[i.track.phase] = (dryRunSummary[i.track.phase] ?? 0) + 1;
  return {
    phase,
    reason: decider === undefined ? '' : `${decider.metric.name}: ${decider.track.message}`,
    startedAt,
    endedAt: now(),
    interrupted: opts.signal?.aborted === true,
    dryRunSummary,
    metrics: items.map((i) => ({
      name: i.metric.name,
      template: i.template,
      phase: i.track.phase,
      message: i.track.message,
      dryRun: i.track.spec.dryRun === true,
      query: i.metric.query,
      counters: { ...i.track.counters },
      measurements: [...i.track.measurements],
    })),
  };
}
