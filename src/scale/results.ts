// A replay (or the live controller's record) as a results document: the `autoscale` section with
// its figures, and the thresholds that decide the verdict. A sync that had no replica count or no
// usable metric is a decision not taken from data: it makes the verdict no data, never a pass.
import type { HpaSpec } from '../autoscale/hpa/types.ts';
import { AutoscaleSectionSchema, type AutoscaleSection, type AutoscaleSectionInput } from '../report/autoscale-schema.ts';
import { RESULTS_SCHEMA, type ResultsInput, type ThresholdRecord } from '../report/results.ts';
import { overallVerdict } from '../score/verdict.ts';
import { analyse } from './analysis.ts';
import type { DecisionDiff } from './diff.ts';
import type { LogActuation } from './log.ts';
import type { ObservationPlan } from './plan.ts';
import type { ReplayStep } from './replay.ts';
import type { LoadedSource } from './source.ts';

export interface SectionInput {
  mode: 'replay' | 'live';
  loaded: LoadedSource;
  hpa: HpaSpec;
  plan: ObservationPlan;
  steps: readonly ReplayStep[];
  syncPeriodSeconds: number;
  from: number;
  to: number;
  prometheus: string;
  run?: { id: string; dir: string } | null;
  liveDiff?: { log: string; diff: DecisionDiff } | null;
  actuations?: readonly LogActuation[];
}

export function autoscaleSection(i: SectionInput): AutoscaleSection {
  const figures = analyse(i.steps, { hpa: i.hpa, plan: i.plan, syncPeriodSeconds: i.syncPeriodSeconds });
  const section: AutoscaleSectionInput = {
    mode: i.mode,
    source: { kind: i.loaded.source.kind, file: i.loaded.file, name: i.loaded.name, minReplicas: i.loaded.minReplicas, maxReplicas: i.loaded.maxReplicas },
    window: { from: new Date(i.from * 1000).toISOString(), to: new Date(i.to * 1000).toISOString() },
    syncPeriodSeconds: i.syncPeriodSeconds,
    pollingIntervalSeconds: i.loaded.pollingIntervalSeconds,
    prometheus: i.prometheus,
    run: i.run ?? null,
    ...figures,
    liveDiff:
      i.liveDiff === undefined || i.liveDiff === null
        ? null
        : { log: i.liveDiff.log, compared: i.liveDiff.diff.compared, onlyLive: i.liveDiff.diff.onlyLive, onlyReplay: i.liveDiff.diff.onlyReplay, differing: i.liveDiff.diff.differing.map((d) => ({ t: d.time, path: d.path, live: d.live, replay: d.replay })) },
    actuations: (i.actuations ?? []).map((a) => ({ at: a.at, action: a.action, gateway: a.gateway, ok: a.ok, ms: a.ms, ...(a.detail === undefined ? {} : { detail: a.detail }) })),
  };
  return AutoscaleSectionSchema.parse(section);
}

/** Syncs whose decision did not come from data: no replica count, or no usable metric. */
export function undecided(steps: readonly ReplayStep[]): ReplayStep[] {
  return steps.filter((s) => s.decision === null || s.decision.conditions.includes('MetricsUnavailable') || (s.decision.keda?.action === 'trigger-error'));
}

export interface ThresholdOptions {
  /** Fail when a capacity-lag interval lasts longer (seconds). */
  maxLagSeconds?: number;
}

export function autoscaleThresholds(a: AutoscaleSection, steps: readonly ReplayStep[], opts: ThresholdOptions = {}): ThresholdRecord[] {
  const out: ThresholdRecord[] = [];
  const missing = undecided(steps);
  const first = missing.slice(0, 3).map((s) => new Date(s.time * 1000).toISOString().slice(11, 19) + 'Z');
  out.push({
    name: 'autoscale: every sync decided from data',
    source: 'promql',
    expr: 'syncs without replica count or usable metrics == 0',
    observed: a.syncs === 0 ? null : missing.length,
    unit: 'syncs',
    verdict: a.syncs === 0 || missing.length > 0 ? 'no_data' : 'pass',
    detail:
      a.syncs === 0
        ? 'no sync time in the window'
        : missing.length === 0
          ? `${a.decided} of ${a.syncs} syncs decided from Prometheus series`
          : `${missing.length} of ${a.syncs} syncs had no replica count or no usable metric (from ${first.join(', ')}${missing.length > 3 ? ', …' : ''}); see autoscale.gaps`,
  });
  if (opts.maxLagSeconds !== undefined) {
    const longest = a.lag.intervals.reduce((m, i) => Math.max(m, i.seconds), 0);
    out.push({
      name: 'autoscale: capacity lag',
      source: 'promql',
      expr: `longest lag interval <= ${opts.maxLagSeconds} s`,
      observed: a.decided === 0 ? null : longest,
      unit: 's',
      verdict: a.decided === 0 ? 'no_data' : longest <= opts.maxLagSeconds ? 'pass' : 'fail',
      detail: a.lag.intervals.length === 0 ? 'capacity kept up at every sync' : `${a.lag.intervals.length} interval(s), ${a.lag.totalSeconds} s in all, longest ${longest} s`,
    });
  }
  if (a.liveDiff !== null) {
    const times = new Set(a.liveDiff.differing.map((d) => d.t));
    const gapsInCover = a.liveDiff.onlyLive.length + a.liveDiff.onlyReplay.length;
    out.push({
      name: 'autoscale: replay equals the live controller',
      source: 'promql',
      expr: 'syncs whose inputs or decision differ == 0',
      observed: a.liveDiff.compared === 0 ? null : times.size,
      unit: 'syncs',
      verdict: a.liveDiff.compared === 0 ? 'no_data' : times.size === 0 && gapsInCover === 0 ? 'pass' : 'fail',
      detail:
        a.liveDiff.compared === 0
          ? `no live sync of ${a.liveDiff.log} falls in the window`
          : `${a.liveDiff.compared} syncs compared; ${times.size} differ${gapsInCover ? `; ${a.liveDiff.onlyLive.length} live-only, ${a.liveDiff.onlyReplay.length} replay-only` : ''}`,
    });
  }
  return out;
}

export function autoscaleResults(args: { runId: string; startedAt: Date; endedAt: Date; target: string; section: AutoscaleSection; thresholds: ThresholdRecord[] }): ResultsInput {
  const v = overallVerdict({ thresholds: args.thresholds });
  return {
    schema: RESULTS_SCHEMA,
    runId: args.runId,
    startedAt: args.startedAt.toISOString(),
    endedAt: args.endedAt.toISOString(),
    profile: args.section.mode === 'replay' ? 'scale-replay' : 'scale-live',
    target: args.target,
    verdict: v.verdict,
    exitCode: v.exitCode,
    aborted: false,
    reasons: v.reasons,
    scenarios: [],
    thresholds: args.thresholds,
    metrics: [],
    generator: { saturated: false, reasons: [], figures: {} },
    drills: [],
    autoscale: args.section,
  };
}
