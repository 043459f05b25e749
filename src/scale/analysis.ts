// What a sequence of autoscaler syncs means for capacity, as the `autoscale` section of results.json:
// desired against actual replicas over time, each scale event with its reason, the capacity lag
// (intervals in which load per replica was above the target while fewer replicas ran than the
// metrics asked for, and by how much), the scrape-gap over-read of avg() metrics (how many replicas
// it added, and when), guardrail holds, and where series were missing. Pure: steps in, figures out.
import type { Decision } from '../autoscale/controller.ts';
import type { HpaSpec, MetricSpec } from '../autoscale/hpa/types.ts';
import type { AutoscaleSectionInput } from '../report/autoscale-schema.ts';
import type { ObservationPlan } from './plan.ts';
import type { ReplayStep } from './replay.ts';

type Section = AutoscaleSectionInput;
export type AnalysedFigures = Pick<Section, 'queries' | 'requests' | 'guardrails' | 'syncs' | 'decided' | 'series' | 'events' | 'lag' | 'overRead' | 'guardrailHolds' | 'guardrailNoData' | 'gaps'>;

export interface AnalysisContext {
  hpa: HpaSpec;
  plan: ObservationPlan;
  syncPeriodSeconds: number;
}

/** A metric's target in the unit its `current` is reported in (a percentage for utilisation). */
export function targetOf(m: MetricSpec): { target: number | null; unit: string } {
  const t = m.target;
  if (t.type === 'Utilization') return { target: t.averageUtilization ?? null, unit: '%' };
  const milli = t.type === 'Value' ? t.value : t.averageValue;
  return { target: milli === undefined ? null : milli / 1000, unit: '' };
}

/** Conditions that mean "the autoscaler held replicas back", in words. */
const HOLDING: Record<string, string> = {
  ScaleUpStabilized: 'scale-up stabilisation window',
  ScaleUpLimit: 'scale-up policy limit',
  TooManyReplicas: 'maxReplicas',
  GuardrailDegraded: 'guardrail: degraded gateways',
  GuardrailDiskYellow: 'guardrail: disk yellow gate',
  GuardrailDiskRed: 'guardrail: disk red gate',
  GuardrailCanaryCap: 'guardrail: canary cap',
  MetricsUnavailable: 'metrics unavailable',
};

function loadRatio(d: Decision, targets: ReadonlyMap<string, number | null>): number | null {
  let worst: number | null = null;
  for (const m of d.metrics) {
    const target = targets.get(m.key);
    if (m.current === null || target === null || target === undefined || target <= 0) continue;
    const r = m.current / target;
    if (worst === null || r > worst) worst = r;
  }
  return worst;
}

export function analyse(steps: readonly ReplayStep[], ctx: AnalysisContext): AnalysedFigures {
  const targets = new Map(ctx.hpa.metrics.map((m) => [m.key, targetOf(m)]));
  const targetValues = new Map([...targets].map(([k, v]) => [k, v.target]));
  const { plan } = ctx;

  const series: Section['series'] = steps.map((s) => ({
    t: s.time,
    replicas: s.observation.input?.replicas ?? null,
    ready: s.observation.input?.pods?.length ?? 0,
    desired: s.decision?.desiredReplicas ?? null,
    recommendation: s.decision?.recommendation ?? null,
    corrected: s.corrected?.desiredReplicas ?? null,
    metrics: Object.fromEntries(
      (s.decision?.metrics ?? []).map((m) => {
        const t = targets.get(m.key);
        return [m.key, { current: m.current, target: t?.target ?? null, unit: t?.unit ?? '' }];
      }),
    ),
  }));

  const events: Section['events'] = steps
    .filter((s): s is ReplayStep & { decision: Decision } => s.decision !== null && s.decision.desiredReplicas !== s.decision.currentReplicas)
    .map((s) => ({ t: s.time, from: s.decision.currentReplicas, to: s.decision.desiredReplicas, reason: s.decision.reason, conditions: [...s.decision.conditions] }));

  // ── capacity lag ──
  const intervals: Section['lag']['intervals'] = [];
  let open: { from: number; shortfall: number; excess: number | null; causes: Set<string> } | null = null;
  const close = (to: number) => {
    if (open === null) return;
    intervals.push({ from: open.from, to, seconds: to - open.from, maxShortfall: open.shortfall, maxExcessPct: open.excess, causes: [...open.causes].sort() });
    open = null;
  };
  for (const s of steps) {
    const d = s.decision;
    const ready = s.observation.input?.pods?.length ?? 0;
    const ratio = d === null ? null : loadRatio(d, targetValues);
    const rec = d?.recommendation ?? null;
    const lagging = d !== null && rec !== null && rec > ready && ratio !== null && ratio > 1;
    if (!lagging) {
      close(s.time);
      continue;
    }
    open ??= { from: s.time, shortfall: 0, excess: null, causes: new Set() };
    open.shortfall = Math.max(open.shortfall, rec - ready);
    const excessPct = Math.round((ratio - 1) * 1000) / 10;
    open.excess = open.excess === null ? excessPct : Math.max(open.excess, excessPct);
    const held = d.conditions.map((c) => HOLDING[c]).filter((x): x is string => x !== undefined);
    for (const h of held) open.causes.add(h);
    if (d.desiredReplicas > ready || (s.observation.input?.replicas ?? 0) > ready) open.causes.add('replicas starting');
    else if (held.length === 0) open.causes.add('detected at this sync');
  }
  const last = steps[steps.length - 1];
  if (last !== undefined) close(last.time + ctx.syncPeriodSeconds);

  // ── the avg() over-read ──
  const points: Section['overRead']['points'] = [];
  for (const s of steps) {
    for (const p of s.observation.overRead) {
      if (!(p.present < p.pods && p.present > 0)) continue;
      const desired = s.decision?.desiredReplicas ?? null;
      const correctedDesired = s.corrected?.desiredReplicas ?? null;
      points.push({
        t: s.time,
        key: p.key,
        pods: p.pods,
        present: p.present,
        missing: p.missing,
        avgPresent: p.avgPresent,
        perReplica: p.perReplica,
        desired,
        correctedDesired,
        extraReplicas: desired !== null && correctedDesired !== null ? desired - correctedDesired : 0,
      });
    }
  }
  // The over-read also acts after the gap closes (a stabilisation window remembers it): count every
  // sync where the corrected controller decided otherwise.
  const affected = steps.filter((s) => s.decision !== null && s.corrected !== null && s.decision.desiredReplicas !== s.corrected.desiredReplicas);
  const extra = affected.map((s) => s.decision!.desiredReplicas - s.corrected!.desiredReplicas);

  // ── guardrails ──
  const guardrailHolds: Section['guardrailHolds'] = steps.flatMap((s) => (s.decision?.guardrails ?? []).map((h) => ({ t: s.time, guardrail: h.guardrail, wanted: h.wanted, allowed: h.allowed, detail: h.detail })));
  const noData = new Map<string, { syncs: number; first: number }>();
  for (const s of steps) {
    for (const g of s.decision?.guardrailsNoData ?? []) {
      const n = noData.get(g);
      if (n) n.syncs++;
      else noData.set(g, { syncs: 1, first: s.time });
    }
  }

  // ── gaps, consecutive syncs merged ──
  const gaps: Section['gaps'] = [];
  const openGaps = new Map<string, Section['gaps'][number]>();
  for (const s of steps) {
    const now = new Set<string>();
    for (const g of s.observation.gaps) {
      const k = `${g.what}\u0000${g.detail}`;
      now.add(k);
      const o = openGaps.get(k);
      if (o) {
        o.to = s.time;
        o.syncs++;
      } else {
        const fresh = { from: s.time, to: s.time, syncs: 1, what: g.what, detail: g.detail };
        openGaps.set(k, fresh);
        gaps.push(fresh);
      }
    }
    for (const k of [...openGaps.keys()]) if (!now.has(k)) openGaps.delete(k);
  }

  return {
    queries: { pods: plan.podsQuery, podLabel: plan.podLabel, replicas: plan.replicasQuery, reads: plan.reads.map((r) => ({ key: r.key, kind: r.read.kind, query: r.read.query, avgInner: r.avgInner })) },
    requests: plan.requests,
    guardrails: {
      degraded: plan.guardrails.config.degraded ?? true,
      degradedWindows: plan.guardrails.config.degradedWindows ?? 2,
      disk: plan.guardrails.config.disk ?? true,
      canaryMaxReplicas: plan.guardrails.config.canaryMaxReplicas ?? null,
    },
    syncs: steps.length,
    decided: steps.filter((s) => s.decision !== null).length,
    series,
    events,
    lag: { totalSeconds: intervals.reduce((a, i) => a + i.seconds, 0), intervals },
    overRead: {
      checked: plan.reads.flatMap((r) => (r.avgInner === null ? [] : [{ key: r.key, query: r.read.query, inner: r.avgInner }])),
      syncsAffected: new Set([...points.map((p) => p.t), ...affected.map((s) => s.time)]).size,
      maxExtraReplicas: extra.length === 0 ? 0 : Math.max(...extra),
      points,
    },
    guardrailHolds,
    guardrailNoData: [...noData].map(([guardrail, v]) => ({ guardrail, syncs: v.syncs, first: v.first })),
    gaps,
  };
}
