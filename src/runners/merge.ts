// Every runner's measurement of one scenario as one measurement of the whole run. Only exact
// operations: histograms merged bucket by bucket, counts added, windows spanned. No percentile of
// any runner enters the result: the per-second chart points too come from merged per-second
// histograms.
import { mergeGroups, type ExecutorCounts, type ScenarioMeasurement } from '../gate/scenario-run.ts';
import { mergeEncoded } from '../load/histogram.ts';
import type { MonitorVerdict } from '../load/monitor.ts';
import type { ScenarioSummary, SecondBucket, TagSetSummary } from '../load/samples.ts';

export interface RunnerMeasurement {
  /** How the runner is named in reasons, e.g. `runner 2/3 (r-2)`. */
  who: string;
  m: ScenarioMeasurement;
}

const MAX_ERROR_MESSAGES = 20;

export function mergeMeasurements(name: string, parts: readonly RunnerMeasurement[]): ScenarioMeasurement {
  if (parts.length === 0) throw new Error(`scenario ${name}: no runner measured it`);
  const ms = parts.map((p) => p.m);
  if (ms.length === 1) return ms[0] as ScenarioMeasurement;
  return {
    name,
    startedAt: Math.min(...ms.map((m) => m.startedAt)),
    endedAt: Math.max(...ms.map((m) => m.endedAt)),
    aborted: ms.some((m) => m.aborted),
    summary: mergeSummaries(name, ms.map((m) => m.summary).filter((s): s is ScenarioSummary => s !== undefined)),
    tagSets: mergeTagSets(ms.flatMap((m) => m.tagSets)),
    executor: mergeCounts(ms.map((m) => m.executor)),
    series: mergeSeries(ms.map((m) => m.series)),
    monitor: mergeMonitors(parts),
    audit: mergeAudits(ms),
  };
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}

function mergeSummaries(name: string, ss: ScenarioSummary[]): ScenarioSummary | undefined {
  const g = mergeGroups(ss);
  if (g === undefined) return undefined;
  const messages = new Map<string, number>();
  for (const s of ss) for (const e of s.errorMessages) messages.set(e.message, (messages.get(e.message) ?? 0) + e.count);
  return {
    ...g,
    scenario: name,
    completed: sum(ss, (s) => s.completed),
    failed: sum(ss, (s) => s.failed),
    interrupted: sum(ss, (s) => s.interrupted),
    dropped: sum(ss, (s) => s.dropped),
    errorMessages: [...messages]
      .map(([message, count]) => ({ message, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, MAX_ERROR_MESSAGES),
  };
}

/** Tag sets with the same tags (from different runners) become one. */
function mergeTagSets(all: TagSetSummary[]): TagSetSummary[] {
  const byKey = new Map<string, TagSetSummary[]>();
  for (const t of all) {
    const key = JSON.stringify([t.tags.scenario, t.tags.step, t.tags.method, t.tags.status_class]);
    const list = byKey.get(key);
    if (list) list.push(t);
    else byKey.set(key, [t]);
  }
  return [...byKey.values()].map((list) => ({ ...(mergeGroups(list) as NonNullable<ReturnType<typeof mergeGroups>>), tags: (list[0] as TagSetSummary).tags }));
}

function mergeCounts(cs: ExecutorCounts[]): ExecutorCounts {
  return {
    // A count of starts is the plan's only when every runner planned one.
    planned: cs.every((c) => c.planned !== undefined) ? sum(cs, (c) => c.planned as number) : undefined,
    started: sum(cs, (c) => c.started),
    completed: sum(cs, (c) => c.completed),
    failed: sum(cs, (c) => c.failed),
    interrupted: sum(cs, (c) => c.interrupted),
    dropped: sum(cs, (c) => c.dropped),
    peakVus: sum(cs, (c) => c.peakVus),
    setupFailures: sum(cs, (c) => c.setupFailures),
    watchdogFired: cs.some((c) => c.watchdogFired),
  };
}

/**
 * Seconds added up by their time. Where every runner measuring a second kept its histogram, the
 * second's percentiles are those of the merged histograms; otherwise (a runner without them) the
 * second keeps its counts and no percentile.
 */
function mergeSeries(all: SecondBucket[][]): SecondBucket[] {
  const byT = new Map<number, SecondBucket[]>();
  for (const series of all) {
    for (const b of series) {
      const list = byT.get(b.t);
      if (list) list.push(b);
      else byT.set(b.t, [b]);
    }
  }
  return [...byT.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, bs]) => {
      const timed = bs.filter((b) => b.max !== null);
      const counts = { t, count: bs.reduce((a, b) => a + b.count, 0), errors: bs.reduce((a, b) => a + b.errors, 0) };
      if (timed.length === 0) return { ...counts, p50: null, p95: null, p99: null, max: null };
      if (timed.length === 1) {
        const only = timed[0] as SecondBucket;
        return { ...counts, p50: only.p50, p95: only.p95, p99: only.p99, max: only.max, ...(only.histogram ? { histogram: only.histogram } : {}) };
      }
      if (timed.some((b) => b.histogram === undefined)) {
        return { ...counts, p50: null, p95: null, p99: null, max: Math.max(...timed.map((b) => b.max as number)) };
      }
      // Per-second histograms are recorded with 2 significant digits: merged at the same precision.
      const h = mergeEncoded(timed.map((b) => b.histogram as string), { significantDigits: 2 });
      // The largest of the runners' maxima is the exact maximum (an encoded histogram keeps only its bucket).
      const max = Math.max(...timed.map((b) => b.max as number));
      return { ...counts, p50: r3(h.percentileMs(50)), p95: r3(h.percentileMs(95)), p99: r3(h.percentileMs(99)), max, histogram: h.encode() };
    });
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

const maxOf = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : Math.max(...v);
};

/**
 * The run's generator is saturated when any runner's was, and the reasons say which runner. Host
 * figures are each runner's own reading: the highest is kept (runners on one machine read the
 * same host; on several, the busiest one matters).
 */
function mergeMonitors(parts: readonly RunnerMeasurement[]): MonitorVerdict {
  const vs = parts.map((p) => p.m.monitor);
  return {
    saturated: vs.some((v) => v.saturated),
    reasons: parts.flatMap((p) => p.m.monitor.reasons.map((r) => `${p.who}: ${r}`)),
    eventLoopP99Ms: Math.max(...vs.map((v) => v.eventLoopP99Ms)),
    eventLoopMaxMs: Math.max(...vs.map((v) => v.eventLoopMaxMs)),
    cpuPct: Math.max(...vs.map((v) => v.cpuPct)),
    cpuPctMax: Math.max(...vs.map((v) => v.cpuPctMax)),
    hostCpuPct: maxOf(vs.map((v) => v.hostCpuPct)),
    generatorHostSharePct: maxOf(vs.map((v) => v.generatorHostSharePct)),
    hostStealPct: maxOf(vs.map((v) => v.hostStealPct)),
    pacerLagP99Ms: maxOf(vs.map((v) => v.pacerLagP99Ms)),
    pacerLagMaxMs: maxOf(vs.map((v) => v.pacerLagMaxMs)),
    watchedMs: Math.max(...vs.map((v) => v.watchedMs)),
  };
}

/** Each runner looked up its own acknowledged writes: the counts add up. */
function mergeAudits(ms: ScenarioMeasurement[]): ScenarioMeasurement['audit'] {
  const as = ms.map((m) => m.audit).filter((a): a is NonNullable<typeof a> => a !== undefined);
  if (as.length === 0) return undefined;
  const incomplete = as.map((a) => a.incomplete).filter((x): x is string => x !== undefined);
  // A runner that ran the scenario but has no lookup (it aborted) leaves the figure incomplete.
  if (as.length < ms.length) incomplete.push(`${ms.length - as.length} runner(s) made no lookup`);
  return {
    acknowledged: sum(as, (a) => a.acknowledged),
    found: sum(as, (a) => a.found),
    dropped: sum(as, (a) => a.dropped),
    via: (as[0] as NonNullable<(typeof as)[number]>).via,
    ...(incomplete.length > 0 ? { incomplete: incomplete.join('; ') } : {}),
  };
}
