// Sample vectors for the judge from what ClawStorm stores. The load engine keeps no per-request
// latencies, only HDR histograms (HdrHistogram V2, compressed base64, microseconds). A
// histogram is its recorded values with their counts, so walking its recorded values and
// repeating each by its count gives the sample back up to the histogram's resolution (3
// significant digits): enough for a rank test, and two runs compare without raw samples.
//
// Each value is the one the histogram reports for its bucket (the highest value equivalent to
// it, as its percentiles do), so a percentile read from the vector matches the histogram's.
// Above `cap` samples the vector is thinned proportionally: sample i (in ascending order) is
// kept when ⌊(i+1)·cap/total⌋ > ⌊i·cap/total⌋, so every stretch of the distribution keeps its
// share of the cap to within one sample, bucket by bucket without expanding the histogram first,
// and the result is the same on every call. `thinned` says so.
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram, mergeEncoded } from '../load/histogram.ts';
import { DEFAULT_MAX_SAMPLES_PER_SIDE } from './config.ts';

/** How many of the first `upTo` of `total` ordered samples the thinning keeps. */
export function keptBefore(upTo: number, total: number, cap: number): number {
  return total <= cap ? upTo : Math.floor((upTo * cap) / total);
}

export interface HistogramSamples {
  /** Latencies in milliseconds, ascending. */
  values: Float64Array;
  /** Samples recorded in the histogram. */
  recorded: number;
  /** True when `values` holds fewer samples than were recorded (proportional thinning). */
  thinned: boolean;
}

/**
 * The samples of a latency histogram (a LatencyHistogram, or one or more encoded ones, merged),
 * in ms, at most `cap` of them.
 */
export function histogramSamples(source: LatencyHistogram | string | readonly string[], cap = DEFAULT_MAX_SAMPLES_PER_SIDE): HistogramSamples {
  if (!(Number.isInteger(cap) && cap > 0)) throw new RangeError(`sample cap must be a positive integer, got ${cap}`);
  const h = source instanceof LatencyHistogram ? source : typeof source === 'string' ? LatencyHistogram.decode(source) : mergeEncoded(source);
  const raw = h.raw;
  // The pure-JS histograms the load engine builds and decodes expose their value iterator; a
  // WebAssembly one would not, and none is ever made here.
  if (!(raw instanceof hdr.JsHistogram)) throw new TypeError('expected a JavaScript HDR histogram (useWebAssembly: false)');
  const total = raw.totalCount;
  const values = new Float64Array(keptBefore(total, total, cap));
  let k = 0;
  let seen = 0;
  const it = raw.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const step = it.next();
    const count = step.countAtValueIteratedTo;
    const take = keptBefore(seen + count, total, cap) - keptBefore(seen, total, cap);
    seen += count;
    const ms = step.valueIteratedTo / 1000;
    for (let j = 0; j < take && k < values.length; j++) values[k++] = ms;
  }
  return { values: k === values.length ? values : values.subarray(0, k), recorded: total, thinned: k < total };
}
