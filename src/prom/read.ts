// Turning a Prometheus answer into a number, or into the reason there is none. Every reader of
// PromQL in ClawStorm — figures, criteria, watchers, analyses — goes through here, so "what
// counts as a measurement" is decided once:
//   - no series is not a zero (an absent series is not a healthy one);
//   - NaN is not a number: nothing was measured in the window;
//   - ±Inf is not a number either, with one exception: histogram_quantile() answers +Inf when
//     the quantile lies beyond the largest bucket, which is a real (and terrible) latency;
//   - an answer of the wrong type (a string, a range vector for an instant query), an error
//     status, a body that is not the API's, too many series, or no answer in time: no data, with
//     Prometheus's own words as the reason;
//   - an answer Prometheus (or Thanos/Mimir in front of it) marked with warnings, such as a
//     partial response, is not trusted as a figure.
import { PromError, type InstantResult, type PromClient } from './client.ts';

export type Reading = { ok: true; value: number; series: number } | { ok: false; reason: string };

const QUANTILE = /\bhistogram_quantile\s*\(/;

/** Whether a sample value is a measurement of this query (see the header). */
export function measurable(v: number, query: string): boolean {
  if (Number.isNaN(v)) return false;
  if (Number.isFinite(v)) return true;
  return v === Number.POSITIVE_INFINITY && QUANTILE.test(query);
}

/** Why a sample value is not a measurement, for the report. */
export function whyNotMeasurable(v: number): string {
  return Number.isNaN(v) ? 'NaN (nothing measured in the window)' : `${v > 0 ? '+' : '-'}Inf (not a number: a division by zero or an overflow)`;
}

/** The reason a query gave no number, from the error its client raised. Anything else is a bug: rethrown. */
export function promErrorReason(err: unknown): string {
  if (err instanceof PromError) return err.kind === 'unreachable' ? `Prometheus unreachable: ${err.message}` : err.message;
  throw err;
}

export type Values = { ok: true; values: number[] } | { ok: false; reason: string };

/** Every value of an instant answer, each one a measurement (a scalar is one value); else why not. */
export function valuesOf(r: InstantResult, query: string): Values {
  if (r.warnings !== undefined && r.warnings.length > 0) return { ok: false, reason: `Prometheus warned about its answer (${r.warnings.join('; ')}): not trusted` };
  if (r.type === 'scalar') return measurable(r.v, query) ? { ok: true, values: [r.v] } : { ok: false, reason: `answered ${whyNotMeasurable(r.v)}` };
  if (r.type !== 'vector') return { ok: false, reason: `answered a ${r.type}, expected an instant vector or a scalar` };
  if (r.series.length === 0) return { ok: false, reason: 'no series (an absent series is not a zero)' };
  const bad = r.series.filter((s) => !measurable(s.v, query));
  if (bad.length > 0) return { ok: false, reason: `${bad.length} of ${r.series.length} series answered ${whyNotMeasurable(bad[0]!.v)}` };
  return { ok: true, values: r.series.map((s) => s.v) };
}

/** One number: a scalar, or the sum of a vector's series (every series must be measurable). */
export function numberOf(r: InstantResult, query: string): Reading {
  const v = valuesOf(r, query);
  return v.ok ? { ok: true, value: v.values.reduce((a, x) => a + x, 0), series: v.values.length } : v;
}

export async function readNumber(prom: PromClient, query: string, at?: Date | number): Promise<Reading> {
  try {
    return numberOf(await prom.instant(query, at), query);
  } catch (err) {
    return { ok: false, reason: promErrorReason(err) };
  }
}
