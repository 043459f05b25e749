// From the metrics' proposal to the replica count the HPA sets (horizontal.go normalization).
//
// Behavior path (the HPA has a `behavior` block):
//   1. stabilise: the current count is clamped into [upRec, downRec], where upRec is the lowest
//      recommendation inside the scale-up window and downRec the highest inside the scale-down
//      window (each window includes the new recommendation);
//   2. rate-limit with the direction's policies, counting from the replica count at the start of
//      each policy's period (current − recent scale-ups + recent scale-downs); Max picks the policy
//      allowing the most change, Min the least, Disabled none;
//   3. clamp to [minReplicas, maxReplicas].
// Legacy path (no behavior): the highest recommendation of the last 5 minutes, then
// [minReplicas, min(maxReplicas, max(2 × current, 4))].
//
// State is plain data (recommendations and scale events with their times) so a run can be replayed
// and logged. Storage mirrors the controller's: a new entry reuses a slot that has aged out rather
// than growing the list, which decides which old events still count.
import { LEGACY_SCALE_UP_FACTOR, LEGACY_SCALE_UP_MINIMUM } from './defaults.ts';
import type { LimitReason, ScalingRules, StabilizationReason } from './types.ts';

export interface Recommendation {
  replicas: number;
  time: number;
}

export interface ScaleEvent {
  /** Absolute size of the change. */
  change: number;
  time: number;
  outdated: boolean;
}

export interface NormalizationState {
  /** null until the first sync, which seeds it with the current count. */
  recommendations: Recommendation[] | null;
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export function emptyNormalizationState(): NormalizationState {
  return { recommendations: null, scaleUpEvents: [], scaleDownEvents: [] };
}

/** The first sync records the current count as a recommendation, so nothing scales down at once. */
export function seedRecommendations(state: NormalizationState, current: number, now: number): NormalizationState {
  if (state.recommendations !== null) return state;
  return { ...state, recommendations: [{ replicas: current, time: now }] };
}

function storeRecommendation(list: readonly Recommendation[], staleIndex: number, rec: Recommendation): Recommendation[] {
  const next = [...list];
  if (staleIndex >= 0) next[staleIndex] = rec;
  else next.push(rec);
  return next;
}

/** Legacy stabilisation: the maximum over the window (a recommendation exactly at the cutoff counts). */
export function stabilizeLegacy(
  recommendations: readonly Recommendation[],
  desired: number,
  now: number,
  windowSeconds: number,
): { stabilized: number; recommendations: Recommendation[] } {
  const cutoff = now - windowSeconds;
  let stabilized = desired;
  let staleIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.time < cutoff) staleIndex = i;
    else if (rec.replicas > stabilized) stabilized = rec.replicas;
  });
  return { stabilized, recommendations: storeRecommendation(recommendations, staleIndex, { replicas: desired, time: now }) };
}

/** Behavior stabilisation: clamp the current count into [upRec, downRec] (windows exclude their cutoff). */
export function stabilizeWithBehavior(args: {
  recommendations: readonly Recommendation[];
  current: number;
  desired: number;
  now: number;
  upWindowSeconds: number;
  downWindowSeconds: number;
}): { stabilized: number; reason: StabilizationReason | null; recommendations: Recommendation[] } {
  const { recommendations, current, desired, now } = args;
  const upCutoff = now - args.upWindowSeconds;
  const downCutoff = now - args.downWindowSeconds;
  let upRec = desired;
  let downRec = desired;
  let staleIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.time > upCutoff) upRec = Math.min(upRec, rec.replicas);
    if (rec.time > downCutoff) downRec = Math.max(downRec, rec.replicas);
    if (rec.time < upCutoff && rec.time < downCutoff) staleIndex = i;
  });
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const reason: StabilizationReason | null = stabilized === desired ? null : desired >= current ? 'ScaleUpStabilized' : 'ScaleDownStabilized';
  return { stabilized, reason, recommendations: storeRecommendation(recommendations, staleIndex, { replicas: desired, time: now }) };
}

/** Replicas changed in the events strictly inside the last `periodSeconds`. */
function changedWithin(events: readonly ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds;
  return events.reduce((sum, e) => (e.time > cutoff ? sum + e.change : sum), 0);
}

function periodStart(current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], periodSeconds: number, now: number): number {
  return current - changedWithin(up, periodSeconds, now) + changedWithin(down, periodSeconds, now);
}

/** The highest count the scale-up policies allow now (may be below current: the caller raises it). */
export function scaleUpLimit(current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const policy of rules.policies) {
    const start = periodStart(current, up, down, policy.periodSeconds, now);
    // Percent rounds up, or a small target could never grow.
    const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The lowest count the scale-down policies allow now (may be above current: the caller lowers it). */
export function scaleDownLimit(current: number, up: readonly ScaleEvent[], down: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For scale-down the largest change is the smallest count: Max picks the minimum.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const policy of rules.policies) {
    const start = periodStart(current, up, down, policy.periodSeconds, now);
    const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export interface RateLimitArgs {
  current: number;
  desired: number;
  minReplicas: number;
  maxReplicas: number;
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
  scaleUpEvents: readonly ScaleEvent[];
  scaleDownEvents: readonly ScaleEvent[];
  now: number;
}

/** Step 2 and 3 of the behavior path: the policies' rate limit, then min/max. */
export function rateLimitWithBehavior(args: RateLimitArgs): { replicas: number; limit: LimitReason } {
  const { current, desired } = args;
  if (desired > current) {
    const limit = Math.max(scaleUpLimit(current, args.scaleUpEvents, args.scaleDownEvents, args.scaleUp, args.now), current);
    const ceiling = Math.min(args.maxReplicas, limit);
    const reason: LimitReason = args.maxReplicas > limit ? 'ScaleUpLimit' : 'TooManyReplicas';
    if (desired > ceiling) return { replicas: ceiling, limit: reason };
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, args.scaleUpEvents, args.scaleDownEvents, args.scaleDown, args.now), current);
    const floor = Math.max(args.minReplicas, limit);
    const reason: LimitReason = args.minReplicas < limit ? 'ScaleDownLimit' : 'TooFewReplicas';
    if (desired < floor) return { replicas: floor, limit: reason };
  }
  return { replicas: desired, limit: 'DesiredWithinRange' };
}

/** The legacy clamp: [min, min(max, max(2 × current, 4))]. */
export function clampLegacy(current: number, desired: number, minReplicas: number, maxReplicas: number): { replicas: number; limit: LimitReason } {
  const scaleUpLimit = Math.trunc(Math.max(LEGACY_SCALE_UP_FACTOR * current, LEGACY_SCALE_UP_MINIMUM));
  const ceiling = maxReplicas > scaleUpLimit ? scaleUpLimit : maxReplicas;
  const ceilingReason: LimitReason = maxReplicas > scaleUpLimit ? 'ScaleUpLimit' : 'TooManyReplicas';
  if (desired < minReplicas) return { replicas: minReplicas, limit: 'TooFewReplicas' };
  if (desired > ceiling) return { replicas: ceiling, limit: ceilingReason };
  return { replicas: desired, limit: 'DesiredWithinRange' };
}

function longestPeriod(rules: ScalingRules): number {
  return rules.policies.reduce((longest, p) => Math.max(longest, p.periodSeconds), 0);
}

function storeEvent(events: readonly ScaleEvent[], longestPeriodSeconds: number, change: number, now: number): ScaleEvent[] {
  const cutoff = now - longestPeriodSeconds;
  const next = events.map((e) => (e.time < cutoff ? { ...e, outdated: true } : e));
  let slot = -1;
  next.forEach((e, i) => {
    if (e.outdated) slot = i;
  });
  const event: ScaleEvent = { change, time: now, outdated: false };
  if (slot >= 0) next[slot] = event;
  else next.push(event);
  return next;
}

/** After a real rescale: remember it for the policies' periods (only on the behavior path). */
export function recordRescale(
  state: NormalizationState,
  rules: { scaleUp: ScalingRules; scaleDown: ScalingRules } | null,
  previous: number,
  next: number,
  now: number,
): NormalizationState {
  if (rules === null || previous === next) return state;
  if (next > previous) {
    return { ...state, scaleUpEvents: storeEvent(state.scaleUpEvents, longestPeriod(rules.scaleUp), next - previous, now) };
  }
  return { ...state, scaleDownEvents: storeEvent(state.scaleDownEvents, longestPeriod(rules.scaleDown), previous - next, now) };
}
