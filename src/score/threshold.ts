// Client-side thresholds: a k6-style expression judged against a metric summary the load engine
// built from its HDR histograms and counters.
import { LatencyHistogram } from '../load/histogram.ts';
import type { GroupSummary } from '../load/samples.ts';
import { aggregationLabel, parseThresholdExpr, type ThresholdExpr } from '../config/threshold-expr.ts';
import { compare, type ThresholdResult } from './types.ts';

/**
 * What the load engine measured for one metric. Latencies are in milliseconds.
 *
 * `samples` is the number of observations. A counter fed k6-style (`add(1)` on an error,
 * `add(0)` otherwise) has one sample per opportunity, so "zero errors out of 5,000 requests"
 * is `samples: 5000, count: 0` — a pass for `count==0` — while a counter nobody fed is
 * `samples: 0`: no data, never a silent pass.
 */
export interface MetricSummary {
  samples: number;
  /** Counter total; for a latency metric, omit it and `count` means `samples`. */
  count?: number;
  avg?: number;
  min?: number;
  max?: number;
  med?: number;
  /** Rate metrics: the fraction of non-zero samples (e.g. failed requests / requests). */
  rate?: number;
  /** Latency at percentile p (0…100), e.g. from an HDR histogram. */
  percentile?: (p: number) => number | undefined;
}

export interface ClientThreshold {
  name: string;
  /** The metric the summary belongs to, for the detail line (e.g. `http_req_duration`). */
  metric?: string;
  expr: string | ThresholdExpr;
}

/** Judge one client threshold. A missing summary or one without samples is `no_data`. */
export function evaluateClientThreshold(t: ClientThreshold, summary: MetricSummary | undefined): ThresholdResult {
  const e = typeof t.expr === 'string' ? parseThresholdExpr(t.expr) : t.expr;
  const agg = aggregationLabel(e.aggregation);
  const isLatency = e.aggregation.kind !== 'count' && e.aggregation.kind !== 'rate';
  const unit = isLatency ? 'ms' : e.aggregation.kind === 'rate' ? 'ratio' : 'count';
  const subject = t.metric ? `${t.metric} ${agg}` : agg;
  const base = { name: t.name, source: 'client' as const, expr: e.source, unit };

  if (summary === undefined || !(summary.samples > 0)) {
    return { ...base, observed: null, verdict: 'no_data', detail: `${subject}: no samples recorded` };
  }
  const observed = pick(e, summary);
  if (observed === undefined || Number.isNaN(observed)) {
    return { ...base, observed: null, verdict: 'no_data', detail: `${subject}: the summary has no ${agg} (${summary.samples} samples)` };
  }
  const ok = compare(observed, e.op, e.value);
  const shown = isLatency ? `${observed} ms` : String(observed);
  const bound = isLatency ? `${e.value} ms` : String(e.value);
  return {
    ...base,
    observed,
    verdict: ok ? 'pass' : 'fail',
    detail: `${subject} = ${shown} ${ok ? 'meets' : 'violates'} ${e.op} ${bound} (${summary.samples} samples)`,
  };
}

function pick(e: ThresholdExpr, s: MetricSummary): number | undefined {
  const a = e.aggregation;
  switch (a.kind) {
    case 'p':
      return s.percentile?.(a.p);
    case 'count':
      return s.count ?? s.samples;
    case 'med':
      return s.med ?? s.percentile?.(50);
    case 'avg':
    case 'min':
    case 'max':
    case 'rate':
      return s[a.kind];
  }
}

/**
 * Summaries from the load engine's GroupSummary: latency (from its HDR histogram, decoded
 * lazily so any percentile is exact to the histogram's precision) and errors (a k6-style rate
 * and counter over requests).
 */
export function latencySummary(g: GroupSummary): MetricSummary {
  let hist: LatencyHistogram | undefined;
  return {
    samples: g.latencySamples,
    avg: g.meanMs,
    min: g.minMs,
    max: g.maxMs,
    med: g.p50Ms,
    percentile: (p) => {
      if (g.latencySamples === 0) return undefined;
      hist ??= LatencyHistogram.decode(g.histogram);
      return hist.percentileMs(p);
    },
  };
}

export function errorSummary(g: Pick<GroupSummary, 'count' | 'errors' | 'errorRate'>): MetricSummary {
  return { samples: g.count, count: g.errors, rate: g.errorRate };
}
