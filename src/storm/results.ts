// A storm's figures judged: each phase's figures under `<discipline>.<figure>` (the reports pivot
// them into one table, a column per discipline) against the storm's pass conditions, and the
// bad-token storm's as a result of its own. A figure that was not measured is no data with the
// reason, through judgeCriterion — never a pass, never a zero.
import type { DrillResult } from '../report/results.ts';
import type { RollbackOutcome } from '../faults/rollback.ts';
import { judgeCriterion } from '../score/criteria.ts';
import { statusOf } from '../score/status.ts';
import type { ThresholdResult } from '../score/types.ts';
import { describeEvidence, DUPLICATE_CLASSES, type DuplicateEvidence } from '../webhooks/duplicates.ts';
import type { BadTokenFigures } from './bad-token.ts';
import type { StormOptions } from './options.ts';
import { describeSchedule } from './schedule.ts';
import type { PhaseFigures } from './phase.ts';
import type { Discipline } from '../webhooks/sender.ts';
import type { StormSecond } from '../report/results.ts';

export interface StormRecord {
  opts: StormOptions;
  phases: Partial<Record<Discipline, PhaseFigures>>;
  evidence: Partial<Record<Discipline, DuplicateEvidence[]>>;
  /** Answers per second, per discipline (the report's chart). */
  seconds: Partial<Record<Discipline, StormSecond[]>>;
  badToken: BadTokenFigures | undefined;
  /** The target has a notifier (the reference fleet): the digest criteria apply. */
  hasNotifier: boolean;
  errors: readonly string[];
  rollback: RollbackOutcome;
  aborted: boolean;
  startedAt: string;
  events: DrillResult['events'];
  durationMs: number;
}

export function stormResults(r: StormRecord): DrillResult[] {
  const { opts, phases } = r;
  const results: DrillResult[] = [];
  if (Object.keys(phases).length > 0 || opts.disciplines.length > 0) {
    const figures: Record<string, number | string | boolean | null> = {
      opt_senders: opts.senders,
      opt_deliveries: opts.deliveries,
      opt_fault: opts.fault,
      opt_redeliveries: opts.redeliveries.map(describeSchedule).join(' ') || 'none',
      opt_aims: opts.aims.join(', '),
      ...(opts.digestSinkDown ? { opt_digest_sink_down: true } : {}),
    };
    const thresholds: ThresholdResult[] = [];
    for (const d of opts.disciplines) {
      const p = phases[d];
      if (p === undefined) continue;
      for (const [k, v] of Object.entries(p)) figures[`${d}.${k}`] = v;
      const th = (name: string, figure: keyof PhaseFigures, op: '==' | '<=', value: number) => {
        thresholds.push(judgeCriterion({ name: `${d}: ${name}`, figure: `${d}.${figure}`, op, value }, p[figure]));
      };
      th('no acknowledged delivery lost', 'lost', '==', 0);
      th('no delivery duplicated (one key, one run, processed once)', 'duplicated', '==', 0);
      // Each class of duplicate on its own, judged only where a redelivery tested it: otherwise
      // no data with what was not exercised, never a zero. The evidence names both runs.
      for (const c of DUPLICATE_CLASSES) {
        const max = opts.duplicateGates[c.cls];
        if (max === null) continue;
        const j = judgeCriterion({ name: `${d}: keys ${c.label} ≤ ${max}`, figure: `${d}.${c.figure}`, op: '<=', value: max }, p[c.figure], c.notExercised);
        const seen = (r.evidence[d] ?? []).filter((e) => e.cls === c.cls);
        thresholds.push(seen.length > 0 ? { ...j, detail: `${j.detail}; ${seen.slice(0, 5).map(describeEvidence).join('; ')}${seen.length > 5 ? `; … (${seen.length - 5} more in the timeline)` : ''}` } : j);
      }
      // Failure digests exist where a notifier receives the gateways' failure events (the reference
      // fleet); real gateways send none, so there is nothing to hold them to.
      if (r.hasNotifier) {
        th('digests + fallback counter account for every failure', 'failures_unaccounted', '==', 0);
        const windows = opts.digestWindowMs === null ? null : Math.ceil(p.duration_ms / opts.digestWindowMs) + 2;
        if (windows !== null) th(`at most one digest per window (${windows} windows)`, 'digests', '<=', windows);
      }
    }
    if (r.errors.length > 0) thresholds.push({ name: 'storm ran', source: 'client', expr: 'no error', observed: null, verdict: 'fail', detail: r.errors.join('; ') });
    if (!r.rollback.ok) thresholds.push({ name: 'rollbacks complete', source: 'client', expr: 'every change undone', observed: r.rollback.failed.length, verdict: 'fail', detail: r.rollback.failed.join('; ') });
    figures.duration_s = Math.round(r.durationMs / 100) / 10;
    results.push({ name: 'webhook-storm', title: 'Webhook retry storm', status: statusOf(thresholds, r.aborted), startedAt: r.startedAt, events: r.events, figures, thresholds, disciplines: r.seconds });
  }
  if (r.badToken !== undefined) {
    const figures: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(r.badToken)) figures[`bad_token.${k}`] = v;
    const b = r.badToken;
    const thresholds: ThresholdResult[] = [
      cmp('every bad-token sender throttled (429)', 'bad_token.throttled_senders', b.throttled_senders ?? null, '==', b.senders ?? 0),
      cmp('no sender throttled before its 21st failure (20 failures / 60 s)', 'bad_token.first_429_attempt_min', b.first_429_attempt_min ?? null, '>=', 21),
      cmp('a well-behaved client is not throttled', 'bad_token.control_client_ok', b.control_client_ok ?? null, '==', 1),
      ...(r.hasNotifier ? [cmp('digests + fallback counter account for every 429', 'bad_token.failures_unaccounted', b.failures_unaccounted ?? null, '==', 0)] : []),
    ];
    results.push({ name: 'webhook-storm-bad-token', title: 'Webhook storm: bad-token senders', status: statusOf(thresholds, r.aborted), startedAt: r.startedAt, events: [], figures, thresholds });
  }
  return results;
}

function cmp(name: string, figure: string, v: number | null, op: '==' | '>=', value: number): ThresholdResult {
  return judgeCriterion({ name, figure, op, value }, v);
}
