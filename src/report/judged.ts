// Which figure a latency column's verdict was judged on.
//
// The results table's P50/P95/P99 are the client's (every request the harness timed). A plan
// criterion may be judged on another figure: "P95 write < 50 ms" of the audit scenario is the
// gateway's own audit-write histogram in Prometheus, because the client's P95 includes the
// HTTP round trip the criterion is not about. Printing the client's 63.7 ms beside a Pass that
// was earned by the server's 18.0 ms invites the reader to conclude the check is broken.
//
// Rule: a percentile column shows the client figure. When the scenario has thresholds on that
// percentile and none of them is client-side, the verdict came from a server-side figure: the
// cell then also shows that figure, marked as the one judged —
// `63.7 ms client · 18.0 ms server (judged)`. When a client threshold on the percentile exists,
// the client figure is the one judged and the cell stays as it is.
import { formatMs, formatValue } from './format.ts';
import type { ScenarioResult, ThresholdRecord } from './results.ts';

export type Percentile = 50 | 95 | 99;

/** The percentile a threshold is on: `p(95)<…` (client) or `histogram_quantile(0.95, …)` (PromQL). */
export function percentileOf(t: Pick<ThresholdRecord, 'source' | 'expr' | 'query'>): number | undefined {
  if (t.source === 'client') {
    const m = /^\s*p\((\d+(?:\.\d+)?)\)/.exec(t.expr);
    return m ? Number(m[1]) : undefined;
  }
  const m = /histogram_quantile\(\s*(0?\.\d+|1(?:\.0*)?)\s*,/.exec(t.query ?? t.expr);
  return m ? Math.round(Number(m[1]) * 10000) / 100 : undefined;
}

/** The server-side threshold a percentile column was judged on, when no client threshold was. */
export function serverJudged(s: Pick<ScenarioResult, 'thresholds'>, p: Percentile): ThresholdRecord | undefined {
  const on = s.thresholds.filter((t) => percentileOf(t) === p);
  if (on.length === 0 || on.some((t) => t.source === 'client')) return undefined;
  // The one that decided: a failure before anything else, then one without data, then a pass.
  const rank = { fail: 0, inconclusive: 1, no_data: 2, pass: 3 } as const;
  return [...on].sort((a, b) => rank[a.verdict] - rank[b.verdict])[0];
}

/** A latency cell of the results table (see the rule above). */
export function latencyCell(s: Pick<ScenarioResult, 'thresholds'>, clientMs: number | null, p: Percentile): string {
  const client = formatMs(clientMs);
  const t = serverJudged(s, p);
  if (t === undefined) return client;
  // A histogram in seconds without a unit on the threshold is still seconds.
  const unit = t.unit ?? (/_seconds_bucket\b/.test(t.query ?? t.expr) ? 's' : undefined);
  const server = t.observed === null ? 'no data' : formatValue(t.observed, unit);
  return `${client} client · ${server} server (judged)`;
}
