// One judging model for anything measured repeatedly: drill hypotheses, watchers, waits for a
// steady state, PromQL range windows, storm checks and canary analyses all feed measurements into
// a Track and read its phase.
//
// The semantics are Argo Rollouts' AnalysisRun metric, because users already know them and bring
// AnalysisTemplates written against them:
//   - a measurement is Successful, Failed, Inconclusive or Error; an empty result, NaN where a
//     number was needed, or a query that failed is an Error measurement — never a pass;
//   - `count` counts Successful + Failed + Inconclusive (errors are not measurements of the
//     system, they are failures to measure it);
//   - limits are checked in Argo's order, a later one overriding an earlier one when several trip
//     at once: failed > failureLimit → Failed; inconclusive > inconclusiveLimit → Inconclusive;
//     consecutiveError > consecutiveErrorLimit → Error. Then consecutiveSuccessLimit ends the
//     metric Successful early; then reaching `count` ends it (Successful, or — when a success
//     streak was required and never came — Inconclusive, or Failed with failureLimit −1);
//   - with no interval a metric takes one measurement; with an interval and no count it runs until
//     it is terminated, and a terminated metric that was still running is Successful;
//   - the run phase is the worst completed metric phase (Successful < Inconclusive < Error <
//     Failed), dry-run metrics excluded.
//
// Two extensions, both off unless a caller sets them, because ClawStorm's drill files need them
// and Argo has no way to say them:
//   - consecutiveFailureLimit: Failed after more than this many failed measurements in a row
//     (a drill probe "tolerates" short blips; PromQL range windows fail on consecutive windows).
//     Error measurements neither count toward the streak nor reset it: a scrape gap must not
//     launder a failing streak into a pass.
//   - maxErrorShare: when a metric completes and more than this share of its attempts were
//     errors, it is Inconclusive — a probe that measured once in ten tries did not show that the
//     system held (the silent pass this model replaces).
//
// Time is an input (`at` on each measurement, `now` when asking what is due): the model is pure
// and a replay gives the same phases as the live run.
import type { Verdict } from './types.ts';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type MetricPhase = 'Pending' | 'Running' | MeasurementPhase;

export interface TrackSpec {
  name: string;
  /** Between measurements; undefined → a single measurement. */
  intervalMs?: number | undefined;
  /** 0 or undefined: 1 without an interval, unbounded with one. */
  count?: number | undefined;
  /** Before the first measurement, from the track's start. */
  initialDelayMs?: number | undefined;
  /** Default 0: the first Failed measurement fails the metric. −1: failures never do. */
  failureLimit?: number | undefined;
  /** Default 0. */
  inconclusiveLimit?: number | undefined;
  /** Default 4: the fifth Error in a row ends the metric in Error. */
  consecutiveErrorLimit?: number | undefined;
  /** Default 0 (off). */
  consecutiveSuccessLimit?: number | undefined;
  /** Extension (see the header). */
  consecutiveFailureLimit?: number | undefined;
  /** Extension (see the header), 0…1. */
  maxErrorShare?: number | undefined;
  /** Measured and reported, never decides the run phase. */
  dryRun?: boolean | undefined;
  /** Wait after an Error before measuring again; default the interval (Argo's analysis uses 10 s). */
  errorRetryMs?: number | undefined;
}

export interface Measurement {
  phase: MeasurementPhase;
  /** What was observed (a number, or the provider's value as text); null when nothing was. */
  value: number | string | null;
  /** One line: what was compared, or why there is nothing. */
  detail: string;
  /** When it finished, ms (any clock the caller uses consistently). */
  at: number;
}

export interface TrackCounters {
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  consecutiveSuccess: number;
  consecutiveFailed: number;
}

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

export class TrackSpecError extends Error {}

/** Argo's validation of a metric's limits, plus the extensions' ranges. */
export function validateTrackSpec(s: TrackSpec): void {
  const problems: string[] = [];
  const nonNeg = (k: keyof TrackSpec) => {
    const v = s[k];
    if (typeof v === 'number' && (!Number.isInteger(v) || v < 0)) problems.push(`${String(k)} must be a whole number ≥ 0 (got ${v})`);
  };
  nonNeg('count');
  nonNeg('inconclusiveLimit');
  nonNeg('consecutiveErrorLimit');
  nonNeg('consecutiveSuccessLimit');
  nonNeg('consecutiveFailureLimit');
  const fl = s.failureLimit ?? 0;
  if (!Number.isInteger(fl) || fl < -1) problems.push(`failureLimit must be a whole number ≥ −1 (got ${fl})`);
  if (fl === -1 && !((s.consecutiveSuccessLimit ?? 0) > 0) && s.consecutiveFailureLimit === undefined) {
    problems.push('failureLimit −1 needs consecutiveSuccessLimit > 0 (otherwise nothing can ever fail the metric)');
  }
  const count = s.count ?? 0;
  if (count > 1 && s.intervalMs === undefined) problems.push('count > 1 needs an interval');
  if (count > 0) {
    const csl = s.consecutiveSuccessLimit ?? 0;
    if (fl >= 0 && count < fl + csl) problems.push(`count (${count}) must be ≥ failureLimit + consecutiveSuccessLimit (${fl + csl})`);
    if (count < (s.inconclusiveLimit ?? 0)) problems.push(`count (${count}) must be ≥ inconclusiveLimit (${s.inconclusiveLimit})`);
  }
  if (s.intervalMs !== undefined && !(s.intervalMs > 0)) problems.push(`interval must be > 0 (got ${s.intervalMs} ms)`);
  if (s.maxErrorShare !== undefined && !(s.maxErrorShare >= 0 && s.maxErrorShare <= 1)) problems.push(`maxErrorShare must be within 0…1 (got ${s.maxErrorShare})`);
  if (problems.length > 0) throw new TrackSpecError(`metric ${s.name}: ${problems.join('; ')}`);
}

/** How many measurements end the metric; undefined = until terminated. */
export function effectiveCount(s: Pick<TrackSpec, 'count' | 'intervalMs'>): number | undefined {
  const c = s.count ?? 0;
  if (c > 0) return c;
  return s.intervalMs === undefined ? 1 : undefined;
}

const MAX_KEPT = 1_000;

export class Track {
  readonly spec: TrackSpec;
  readonly startedAt: number;
  readonly counters: TrackCounters = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0, consecutiveError: 0, consecutiveSuccess: 0, consecutiveFailed: 0 };
  /** Oldest first; at most the last 1,000 (the counters keep everything). */
  readonly measurements: Measurement[] = [];
  #phase: MetricPhase = 'Pending';
  #message = '';
  #lastAt: number | undefined;
  #lastWasError = false;

  constructor(spec: TrackSpec, startedAt: number) {
    validateTrackSpec(spec);
    this.spec = spec;
    this.startedAt = startedAt;
  }

  get phase(): MetricPhase {
    return this.#phase;
  }

  /** Why the metric is in its phase (which limit tripped, or the last measurement). */
  get message(): string {
    return this.#message;
  }

  get done(): boolean {
    return this.#phase !== 'Pending' && this.#phase !== 'Running';
  }

  /** When the next measurement is due (ms), or undefined when the metric is complete. */
  nextDueAt(): number | undefined {
    if (this.done) return undefined;
    if (this.#lastAt === undefined) return this.startedAt + (this.spec.initialDelayMs ?? 0);
    const wait = this.#lastWasError ? (this.spec.errorRetryMs ?? this.spec.intervalMs ?? 0) : (this.spec.intervalMs ?? 0);
    return this.#lastAt + wait;
  }

  add(m: Measurement): MetricPhase {
    if (this.done) return this.#phase;
    const c = this.counters;
    this.measurements.push(m);
    if (this.measurements.length > MAX_KEPT) this.measurements.shift();
    this.#lastAt = m.at;
    this.#lastWasError = m.phase === 'Error';
    switch (m.phase) {
      case 'Successful':
        c.successful += 1;
        c.consecutiveSuccess += 1;
        c.consecutiveFailed = 0;
        break;
      case 'Failed':
        c.failed += 1;
        c.consecutiveSuccess = 0;
        c.consecutiveFailed += 1;
        break;
      case 'Inconclusive':
        c.inconclusive += 1;
        c.consecutiveSuccess = 0;
        c.consecutiveFailed = 0;
        break;
      case 'Error':
        c.error += 1;
        c.consecutiveError += 1;
        c.consecutiveSuccess = 0;
        break;
    }
    if (m.phase !== 'Error') {
      c.count += 1;
      c.consecutiveError = 0;
    }
    this.#phase = 'Running';
    this.#message = m.detail;
    this.#assess();
    return this.#phase;
  }

  /**
   * End the metric now (the analysis was terminated, the method ended, the deadline passed):
   * a metric still running becomes Successful — unless it was waiting for a success streak
   * (then Inconclusive, or Failed with failureLimit −1), or took no measurement at all while one
   * was expected (Error: nothing was measured).
   */
  terminate(why = 'terminated'): MetricPhase {
    if (this.done) return this.#phase;
    const s = this.spec;
    if (this.counters.count === 0 && this.counters.error === 0) {
      if (this.#phase === 'Pending') return this.#finish('Successful', `${why} before any measurement`);
      return this.#finish('Error', `${why}: no measurement was taken`);
    }
    if (this.#errorShareTooHigh()) return this.#finish('Inconclusive', this.#errorShareMessage());
    if (this.counters.count === 0) return this.#finish('Error', `${why}: every attempt was an error (${this.counters.error}); last: ${this.#message}`);
    if ((s.consecutiveSuccessLimit ?? 0) > 0) {
      return this.#finish((s.failureLimit ?? 0) >= 0 ? 'Inconclusive' : 'Failed', `${why} before ${s.consecutiveSuccessLimit} successful measurement(s) in a row (longest ${this.counters.consecutiveSuccess}); last: ${this.#message}`);
    }
    return this.#finish('Successful', `${why}: ${this.#summary()}`);
  }

  #assess(): void {
    const s = this.spec;
    const c = this.counters;
    let phase: MeasurementPhase | undefined;
    let why = '';
    const failureLimit = s.failureLimit ?? 0;
    if (failureLimit >= 0 && c.failed > failureLimit) {
      phase = 'Failed';
      why = `${c.failed} failed measurement(s) > failureLimit ${failureLimit}`;
    }
    if (s.consecutiveFailureLimit !== undefined && c.consecutiveFailed > s.consecutiveFailureLimit) {
      phase = 'Failed';
      why = `${c.consecutiveFailed} failed measurements in a row > ${s.consecutiveFailureLimit} tolerated`;
    }
    if (c.inconclusive > (s.inconclusiveLimit ?? 0)) {
      phase = 'Inconclusive';
      why = `${c.inconclusive} inconclusive measurement(s) > inconclusiveLimit ${s.inconclusiveLimit ?? 0}`;
    }
    const errLimit = s.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT;
    if (c.consecutiveError > errLimit) {
      phase = 'Error';
      why = `${c.consecutiveError} errors in a row > consecutiveErrorLimit ${errLimit}`;
    }
    if (phase !== undefined) {
      this.#finish(phase, `${why}; last: ${this.#message}`);
      return;
    }
    const csl = s.consecutiveSuccessLimit ?? 0;
    if (csl > 0 && c.consecutiveSuccess >= csl) {
      this.#finish('Successful', `${c.consecutiveSuccess} successful measurement(s) in a row; last: ${this.#message}`);
      return;
    }
    const n = effectiveCount(s);
    if (n !== undefined && c.count >= n) {
      if (this.#errorShareTooHigh()) {
        this.#finish('Inconclusive', this.#errorShareMessage());
      } else if (csl > 0) {
        this.#finish(failureLimit >= 0 ? 'Inconclusive' : 'Failed', `${n} measurement(s) without ${csl} successful in a row; last: ${this.#message}`);
      } else {
        this.#finish('Successful', this.#summary());
      }
    }
  }

  #errorShareTooHigh(): boolean {
    const share = this.spec.maxErrorShare;
    const attempts = this.counters.count + this.counters.error;
    return share !== undefined && attempts > 0 && this.counters.error / attempts > share;
  }

  #errorShareMessage(): string {
    const c = this.counters;
    return `${c.error} of ${c.count + c.error} attempts measured nothing (more than ${Math.round((this.spec.maxErrorShare ?? 0) * 100)}%); last: ${this.#message}`;
  }

  #summary(): string {
    const c = this.counters;
    const parts = [`${c.successful} successful`];
    if (c.failed) parts.push(`${c.failed} failed`);
    if (c.inconclusive) parts.push(`${c.inconclusive} inconclusive`);
    if (c.error) parts.push(`${c.error} error(s)`);
    return `${parts.join(', ')} of ${c.count + c.error}; last: ${this.#message}`;
  }

  #finish(phase: MeasurementPhase, message: string): MetricPhase {
    this.#phase = phase;
    this.#message = message;
    return phase;
  }
}

const ORDER: Record<MetricPhase, number> = { Successful: 0, Running: 1, Pending: 2, Inconclusive: 3, Error: 4, Failed: 5 };

/**
 * The run phase over its metrics: Running while any non-dry-run metric is unfinished, otherwise
 * the worst phase (Successful < Inconclusive < Error < Failed). No metric at all: Successful.
 */
export function runPhase(tracks: readonly Pick<Track, 'phase' | 'spec'>[]): MetricPhase {
  const decisive = tracks.filter((t) => !t.spec.dryRun);
  if (decisive.some((t) => t.phase === 'Pending' || t.phase === 'Running')) return 'Running';
  return worstPhase(decisive.map((t) => t.phase));
}

export function worstPhase(phases: readonly MetricPhase[]): MetricPhase {
  let worst: MetricPhase = 'Successful';
  for (const p of phases) if (ORDER[p] > ORDER[worst]) worst = p;
  return worst;
}

/** A completed metric's phase in ClawStorm's verdict words (Error: nothing could be measured). */
export function verdictOfPhase(p: MetricPhase): Verdict {
  switch (p) {
    case 'Successful':
      return 'pass';
    case 'Failed':
      return 'fail';
    case 'Inconclusive':
      return 'inconclusive';
    default:
      return 'no_data';
  }
}

/** A check's outcome as a measurement phase: true passed, false failed, null measured nothing. */
export function phaseOf(ok: boolean | null): MeasurementPhase {
  return ok === null ? 'Error' : ok ? 'Successful' : 'Failed';
}
