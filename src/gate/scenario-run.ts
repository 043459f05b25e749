// One scenario, start to verdict: load → samples → verification → thresholds (client and PromQL).
import { scenario as prepare, runEngine, type EngineProgress, type EngineResult } from '../load/engine.ts';
import { mergeEncoded } from '../load/histogram.ts';
import { SampleSink, type GroupSummary, type ScenarioSummary, type SecondBucket, type TagSetSummary } from '../load/samples.ts';
import type { MonitorThresholds, MonitorVerdict } from '../load/monitor.ts';
import type { ExecutionTuple } from '../load/segment.ts';
import { sampleStepNames, type ScenarioFile, type ScenarioClientThreshold } from '../config/scenario.ts';
import type { PromClient } from '../prom/client.ts';
import { readNumber } from '../prom/read.ts';
import { substitutePlaceholders } from '../prom/syntax.ts';
import { evaluatePromThresholds, instantWindow, settle } from '../score/promql.ts';
import { evaluateClientThreshold, errorSummary, latencySummary, type MetricSummary } from '../score/threshold.ts';
import type { ThresholdResult } from '../score/types.ts';
import { applyHostSaturation, hostLoadOf, hostSaturation } from '../score/host.ts';
import { applySaturation, statusOfVerdict } from '../score/status.ts';
import { overallVerdict } from '../score/verdict.ts';
import type { ScenarioResult, ScenarioStatus } from '../report/results.ts';
import { buildJourneys, type JourneyTarget } from './journey.ts';
import { auditLookup, type AuditLookupResult } from './verify.ts';

export interface ScenarioRunOptions {
  profile: string;
  target: JourneyTarget & { databaseUrl?: string };
  prom: PromClient | undefined;
  scrapeIntervalSeconds: number;
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  monitor?: Partial<MonitorThresholds>;
  /**
   * The generator shares the machine with the fleet (a local test bed): a saturated host makes
   * the scenario's latency verdicts inconclusive (src/score/host.ts).
   */
  sharedHost?: boolean;
}

export interface ScenarioOutcome {
  result: ScenarioResult;
  engine: EngineResult;
  saturated: boolean;
  saturationReasons: string[];
}

export function vusOf(s: ScenarioFile, profile: string): number {
  const e = s.profiles[profile];
  if (e === undefined) return 1;
  switch (e.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return e.maxVUs ?? e.preAllocatedVUs;
    case 'ramping-vus':
      return Math.max(1, e.startVUs ?? 1, ...e.stages.map((st) => st.target));
    default:
      return e.vus;
  }
}

/**
 * What one process measured of one scenario: everything the scorer needs, and nothing that cannot
 * be added up exactly over runners (histograms and counts, never percentiles). A single process
 * scores its own; sharded runners write theirs to a file and one judge merges them
 * (src/runners/merge.ts) and scores the whole.
 */
export interface ScenarioMeasurement {
  name: string;
  /** Unix ms: the window the load ran in. */
  startedAt: number;
  endedAt: number;
  aborted: boolean;
  /** The scenario's samples as one group with its iteration counts; undefined when nothing ran. */
  summary: ScenarioSummary | undefined;
  tagSets: TagSetSummary[];
  /** The executor's own counts: every planned start is started or dropped. */
  executor: ExecutorCounts;
  series: SecondBucket[];
  monitor: MonitorVerdict;
  audit: AuditLookupResult | undefined;
}

export interface ExecutorCounts {
  /** Starts the executor set out to make; undefined for the duration-based closed executors. */
  planned: number | undefined;
  started: number;
  completed: number;
  failed: number;
  interrupted: number;
  dropped: number;
  peakVus: number;
  setupFailures: number;
  watchdogFired: boolean;
}

export interface MeasureOptions {
  profile: string;
  target: JourneyTarget & { databaseUrl?: string };
  signal: AbortSignal;
  onProgress?: (p: EngineProgress) => void;
  monitor?: Partial<MonitorThresholds>;
  /** This runner's execution segment; absent: the whole plan. */
  segment?: ExecutionTuple;
}

/** Run the load of one scenario (and its own verification lookups); no scoring. */
export async function measureScenario(s: ScenarioFile, opts: MeasureOptions): Promise<{ measurement: ScenarioMeasurement; engine: EngineResult }> {
  const executor = s.profileInputs[opts.profile];
  if (executor === undefined) {
    throw Object.assign(new Error(`${s.file}: profiles.${opts.profile}: scenario ${s.name} has no profile ${JSON.stringify(opts.profile)}; it has ${Object.keys(s.profiles).join(', ')}`), { exitCode: 2 });
  }
  // A runner keeps each second's histogram, so the judge can merge per-second percentiles too.
  const sink = new SampleSink({ secondHistograms: opts.segment !== undefined });
  const built = buildJourneys(s, opts.target, sink, vusOf(s, opts.profile));
  let engine: EngineResult;
  try {
    engine = await runEngine([prepare({ name: s.name, executor, iteration: built.iteration, ...(opts.segment ? { segment: opts.segment } : {}) })], {
      sink,
      signal: opts.signal,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.monitor || s.generator ? { monitor: { ...opts.monitor, ...s.generator } } : {}),
    });
  } finally {
    await built.close();
  }
  let audit: AuditLookupResult | undefined;
  if (s.verify.some((v) => v.kind === 'audit-lookup') && !engine.aborted) {
    const token = opts.target.tokens.gateway ?? '';
    audit = await auditLookup(built.acks, {
      ...(opts.target.databaseUrl !== undefined ? { databaseUrl: opts.target.databaseUrl } : {}),
      apiBaseUrl: opts.target.baseUrl,
      token,
      from: new Date(engine.startedAt - 5_000),
      to: new Date(engine.endedAt + 5_000),
      signal: opts.signal,
    });
  }
  const outcome = engine.scenarios.find((o) => o.name === s.name);
  const r = outcome?.result;
  return {
    engine,
    measurement: {
      name: s.name,
      startedAt: engine.startedAt,
      endedAt: engine.endedAt,
      aborted: engine.aborted,
      summary: engine.summary.scenarios.find((x) => x.scenario === s.name),
      tagSets: engine.summary.tagSets.filter((ts) => ts.tags.scenario === s.name),
      executor: {
        planned: r?.planned,
        started: r?.started ?? 0,
        completed: r?.completed ?? 0,
        failed: r?.failed ?? 0,
        interrupted: r?.interrupted ?? 0,
        dropped: r?.dropped ?? 0,
        peakVus: r?.peakVus ?? 0,
        setupFailures: r?.setupFailures ?? 0,
        watchdogFired: outcome?.watchdogFired ?? false,
      },
      series: engine.scenarioBuckets[s.name] ?? [],
      monitor: engine.monitor,
      audit,
    },
  };
}

export interface ScoreOptions {
  prom: PromClient | undefined;
  scrapeIntervalSeconds: number;
  /** See ScenarioRunOptions.sharedHost. */
  sharedHost?: boolean;
  /** Who was saturated, when not this process (a judge names the runners); default "load generator saturated". */
  saturatedWho?: string;
}

export async function runScenario(s: ScenarioFile, opts: ScenarioRunOptions): Promise<ScenarioOutcome> {
  const { measurement, engine } = await measureScenario(s, opts);
  const scored = await scoreScenario(s, measurement, opts);
  return { ...scored, engine };
}

/**
 * Score a measurement (one process's, or every runner's merged): client thresholds from its
 * histograms and counts, figures and PromQL thresholds from Prometheus over its window.
 */
export async function scoreScenario(s: ScenarioFile, m: ScenarioMeasurement, opts: ScoreOptions): Promise<Omit<ScenarioOutcome, 'engine'>> {
  const start = new Date(m.startedAt);
  const end = new Date(m.endedAt);

  const figures: Record<string, number | string | boolean | null> = {};
  const noData: Record<string, string> = {};
  const audit = m.audit;
  if (audit !== undefined) {
    figures.audit_acknowledged = audit.acknowledged;
    figures.audit_found = audit.found;
    figures.audit_dropped = audit.incomplete ? null : audit.dropped;
    figures.audit_lookup_via = audit.via;
    if (audit.incomplete) noData.audit_dropped = `the lookup did not finish: ${audit.incomplete}`;
  }
  if (opts.prom && s.figures.length > 0) {
    await settle(end, opts.scrapeIntervalSeconds);
    const { at, rangeS: range } = instantWindow({ start, end, scrapeIntervalSeconds: opts.scrapeIntervalSeconds });
    const before = new Date(start.getTime() - opts.scrapeIntervalSeconds * 1000);
    const prom = opts.prom;
    for (const f of s.figures) {
      const q = substitutePlaceholders(f.query, { range, interval: range, rateInterval: Math.max(range, 4 * opts.scrapeIntervalSeconds) });
      if (f.mode === 'delta') {
        const [b, e] = await Promise.all([readNumber(prom, q, before), readNumber(prom, q, at)]);
        if (b.ok && e.ok) figures[f.name] = e.value - b.value;
        else {
          figures[f.name] = null;
          noData[f.name] = !b.ok ? `before the run: ${b.reason}` : `after the run: ${(e as { reason: string }).reason}`;
        }
      } else {
        const r = await readNumber(prom, q, at);
        figures[f.name] = r.ok ? r.value : null;
        if (!r.ok) noData[f.name] = r.reason;
      }
    }
  } else if (s.figures.length > 0) {
    for (const f of s.figures) {
      figures[f.name] = null;
      noData[f.name] = 'no Prometheus configured for this target';
    }
  }

  const mine = m.tagSets;
  const scen = m.summary;
  const thresholds: ThresholdResult[] = s.thresholds.map((t) => {
    const r = evaluateClientThreshold({ name: t.name, metric: t.metric, expr: t.expr }, summaryFor(s, t, mine, scen, figures, audit));
    // A threshold on a figure that could not be measured says why, not just "no samples".
    const figure = t.metric.startsWith('figure:') ? t.metric.slice('figure:'.length) : undefined;
    return figure !== undefined && r.verdict === 'no_data' && noData[figure] !== undefined ? { ...r, detail: `${figure}: ${noData[figure]}` } : r;
  });
  if (s.promql.length > 0) {
    if (opts.prom) {
      thresholds.push(...(await evaluatePromThresholds(opts.prom, s.promql, { start, end, scrapeIntervalSeconds: opts.scrapeIntervalSeconds })));
    } else {
      for (const t of s.promql) {
        thresholds.push({ name: t.name, source: 'promql', expr: `${t.op} ${t.value}`, query: t.query, observed: null, verdict: 'no_data', detail: 'no Prometheus configured for this target' });
      }
    }
  }

  const saturated = m.monitor.saturated;
  const host = hostLoadOf(m.monitor);
  const busyHost = opts.sharedHost ? hostSaturation(host) : undefined;
  const judged = applyHostSaturation(applySaturation(thresholds, saturated, opts.saturatedWho), busyHost);
  const verdict = overallVerdict({ thresholds: judged, saturated, aborted: m.aborted });
  const reasons = busyHost === undefined ? verdict.reasons : [...verdict.reasons, busyHost];
  const status: ScenarioStatus = statusOfVerdict(verdict.verdict);
  const all = scen;
  const hist = all && all.latencySamples > 0 ? mergeEncoded([all.histogram]) : undefined;
  const result: ScenarioResult = {
    name: s.name,
    title: s.title,
    status,
    startedAt: start.toISOString(),
    endedAt: end.toISOString(),
    p50: all && all.latencySamples > 0 ? all.p50Ms : null,
    p95: all && all.latencySamples > 0 ? all.p95Ms : null,
    p99: all && all.latencySamples > 0 ? all.p99Ms : null,
    errorRate: all && all.count > 0 ? all.errorRate : null,
    errorRateOf: 'requests',
    requests: all?.count ?? 0,
    errors: all?.errors ?? 0,
    dropped: all?.dropped ?? 0,
    thresholds: judged,
    reasons,
    noData,
    extra: {
      ...figures,
      latency_measured_from: all?.latencyFrom ?? 'none',
      iterations_completed: all?.completed ?? 0,
      iterations_failed: all?.failed ?? 0,
      iterations_interrupted: all?.interrupted ?? 0,
      // What the machine did meanwhile, so a reader can tell a busy host from a slow fleet.
      generator_cpu_pct: m.monitor.cpuPct,
      host_cpu_pct: host.cpuPct,
      host_steal_pct: host.stealPct,
      generator_host_share_pct: host.generatorSharePct,
    },
    percentiles: hist ? [50, 75, 90, 95, 99, 99.9, 100].map((p) => ({ p, ms: Math.round(hist.percentileMs(p) * 1000) / 1000 })) : [],
    series: m.series,
    histogram: all && all.latencySamples > 0 ? all.histogram : undefined,
  };
  return { result, saturated, saturationReasons: m.monitor.reasons };
}

/** The samples a client threshold judges: the scenario's samples, narrowed by step name, kind or method tag. */
function summaryFor(
  s: ScenarioFile,
  t: ScenarioClientThreshold,
  tagSets: TagSetSummary[],
  scen: GroupSummary | undefined,
  figures: Record<string, number | string | boolean | null>,
  audit: AuditLookupResult | undefined,
): MetricSummary | undefined {
  if (t.metric.startsWith('figure:')) {
    const v = figures[t.metric.slice('figure:'.length)];
    if (typeof v !== 'number') return undefined;
    // A figure's opportunities: what it counts out of (acknowledged writes), at least one.
    return { samples: Math.max(1, audit?.acknowledged ?? 1), count: v };
  }
  const kinds = new Map<string, string>();
  for (const j of s.journeys) for (const st of j.steps) for (const n of sampleStepNames(st)) kinds.set(n, st.kind);
  const { steps, kind, methods } = t.select;
  const narrowed = steps !== undefined || kind !== undefined || methods !== undefined;
  const chosen = narrowed
    ? tagSets.filter(
        ({ tags }) =>
          (steps === undefined || steps.includes(tags.step)) && (kind === undefined || kinds.get(tags.step) === kind) && (methods === undefined || methods.includes(tags.method)),
      )
    : undefined;
  const group = chosen === undefined ? scen : mergeGroups(chosen);
  if (group === undefined) return undefined;
  if (t.metric === 'latency') return latencySummary(group);
  if (t.metric === 'dropped') return { samples: Math.max(1, group.count), count: 'dropped' in group ? Number((group as { dropped: number }).dropped) : 0 };
  return errorSummary(group);
}

/** Groups of samples as one: histograms merged exactly, counts added. */
export function mergeGroups(groups: GroupSummary[]): GroupSummary | undefined {
  if (groups.length === 0) return undefined;
  if (groups.length === 1) return groups[0];
  const withLatency = groups.filter((g) => g.latencySamples > 0);
  const h = mergeEncoded(withLatency.map((g) => g.histogram));
  const st = h.stats();
  const count = groups.reduce((a, g) => a + g.count, 0);
  const errors = groups.reduce((a, g) => a + g.errors, 0);
  return {
    ...st,
    count,
    errors,
    errorRate: count > 0 ? errors / count : 0,
    errorRateOf: 'requests',
    latencySamples: groups.reduce((a, g) => a + g.latencySamples, 0),
    // Tag sets of failures without timing say 'none'; they do not make the rest 'mixed'.
    latencyFrom: withLatency.length === 0 ? 'none' : withLatency.every((g) => g.latencyFrom === withLatency[0]?.latencyFrom) ? (withLatency[0]?.latencyFrom ?? 'none') : 'mixed',
    clampedSamples: groups.reduce((a, g) => a + g.clampedSamples, 0),
    histogram: h.encode(),
  };
}
