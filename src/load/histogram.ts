import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

// Values are recorded in microseconds: 1 µs resolution at the bottom, one hour at the top.
export const LOWEST_US = 1;
export const HIGHEST_US = 3_600_000_000;
export const SIGNIFICANT_DIGITS = 3;

export interface LatencyStats {
  count: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface HistogramOptions {
  /** 3 for results; 2 is enough (and 7× smaller) for the per-second chart buckets. */
  significantDigits?: 2 | 3;
}

function buildRaw(digits: 2 | 3): Histogram {
  // Pure JS build: the WebAssembly one needs an async init and buys nothing at our rates.
  return hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: digits,
  });
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** An HDR latency histogram taking milliseconds in and giving milliseconds out. */
export class LatencyHistogram {
  readonly raw: Histogram;
  /** Samples above one hour, recorded as one hour: a count so nobody mistakes the cap for data. */
  clamped = 0;

  constructor(opts: HistogramOptions = {}, raw?: Histogram) {
    this.raw = raw ?? buildRaw(opts.significantDigits ?? SIGNIFICANT_DIGITS);
  }

  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  recordUs(us: number): void {
    this.recordUsCount(us, 1);
  }

  /** `count` samples of one value at once (a bucket of another histogram read back). */
  recordUsCount(us: number, count: number): void {
    if (!Number.isFinite(us) || !(count > 0)) return;
    let v = Math.round(us);
    if (v < LOWEST_US) v = LOWEST_US;
    if (v > HIGHEST_US) {
      v = HIGHEST_US;
      this.clamped += count;
    }
    if (count === 1) this.raw.recordValue(v);
    else this.raw.recordValueWithCount(v, count);
  }

  get count(): number {
    return this.raw.totalCount;
  }

  /** Value at percentile p (0–100), in ms; 0 when empty. */
  percentileMs(p: number): number {
    if (this.raw.totalCount === 0) return 0;
    return this.raw.getValueAtPercentile(p) / 1000;
  }

  get minMs(): number {
    return this.raw.totalCount === 0 ? 0 : this.raw.minNonZeroValue / 1000;
  }

  get maxMs(): number {
    return this.raw.totalCount === 0 ? 0 : this.raw.maxValue / 1000;
  }

  get meanMs(): number {
    return this.raw.totalCount === 0 ? 0 : this.raw.mean / 1000;
  }

  stats(): LatencyStats {
    return {
      count: this.count,
      minMs: round3(this.minMs),
      p50Ms: round3(this.percentileMs(50)),
      p90Ms: round3(this.percentileMs(90)),
      p95Ms: round3(this.percentileMs(95)),
      p99Ms: round3(this.percentileMs(99)),
      maxMs: round3(this.maxMs),
      meanMs: round3(this.meanMs),
    };
  }

  /** Add another histogram's counts into this one (exact: same bucket layout). */
  merge(other: LatencyHistogram): this {
    this.raw.add(other.raw);
    this.clamped += other.clamped;
    return this;
  }

  reset(): void {
    this.raw.reset();
    this.clamped = 0;
  }

  /** Compressed base64 in the standard HdrHistogram V2 encoding, readable by every HDR port. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.raw);
  }

  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram({}, hdr.decodeFromCompressedBase64(encoded, 32, false));
  }
}

/**
 * Merge encoded histograms (e.g. from several tag-sets or runs) into one. Exact when `opts` gives
 * the precision they were recorded with (2-digit per-second histograms merge into a 2-digit one).
 */
export function mergeEncoded(encoded: readonly string[], opts: HistogramOptions = {}): LatencyHistogram {
  const out = new LatencyHistogram(opts);
  for (const e of encoded) out.merge(LatencyHistogram.decode(e));
  return out;
}
