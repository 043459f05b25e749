// Sliding window of this gateway's own request outcomes for the canary block of the composite
// probe. Memory is flat: a ring of per-second buckets, each a fixed array of latency-bucket
// counts, so a 12-hour storm costs what a 1-minute one does (no raw samples, plan §11).

/** Geometric latency buckets: 5% wide from 0.05 ms; the last one takes everything above ~2 min. */
const GROWTH = 1.05;
const MIN_MS = 0.05;
const N_BUCKETS = Math.ceil(Math.log(150_000 / MIN_MS) / Math.log(GROWTH)) + 1;

/** Upper edge (ms) of each bucket; reporting upper edges over-reads by at most one 5% step, never under. */
const UPPER_EDGES: Float64Array = (() => {
  const e = new Float64Array(N_BUCKETS);
  for (let i = 0; i < N_BUCKETS; i++) e[i] = MIN_MS * GROWTH ** i;
  return e;
})();

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH));
  return Math.min(N_BUCKETS - 1, i);
}

interface SecondBucket {
  /** Epoch second this slot currently holds; a slot whose second left the window reads as empty. */
  second: number;
  total: number;
  errors5xx: number;
  counts: Uint32Array;
}

export interface WindowSummary {
  windowSeconds: number;
  requests: number;
  errors5xx: number;
  /** 5xx answers / all answers over the window (0 when there was no traffic). */
  rate5xx: number;
  /** 0 when there was no traffic. */
  p99Ms: number;
  p50Ms: number;
}

export class RecentWindow {
  readonly windowSeconds: number;
  private readonly slots: SecondBucket[];
  private readonly now: () => number;

  constructor(windowSeconds = 60, now: () => number = Date.now) {
    this.windowSeconds = windowSeconds;
    this.now = now;
    this.slots = Array.from({ length: windowSeconds }, () => ({
      second: -1,
      total: 0,
      errors5xx: 0,
      counts: new Uint32Array(N_BUCKETS),
    }));
  }

  /** Record one finished request: its HTTP status (or equivalent) and latency in ms. */
  record(status: number, latencyMs: number): void {
    const sec = Math.floor(this.now() / 1000);
    const slot = this.slots[sec % this.windowSeconds];
    if (slot === undefined) return;
    if (slot.second !== sec) {
      slot.second = sec;
      slot.total = 0;
      slot.errors5xx = 0;
      slot.counts.fill(0);
    }
    slot.total++;
    if (status >= 500) slot.errors5xx++;
    const b = bucketOf(latencyMs);
    slot.counts[b] = (slot.counts[b] ?? 0) + 1;
  }

  reset(): void {
    for (const s of this.slots) {
      s.second = -1;
      s.total = 0;
      s.errors5xx = 0;
      s.counts.fill(0);
    }
  }

  summary(): WindowSummary {
    const sec = Math.floor(this.now() / 1000);
    const oldest = sec - this.windowSeconds + 1;
    const merged = new Float64Array(N_BUCKETS);
    let total = 0;
    let errors = 0;
    for (const s of this.slots) {
      if (s.second < oldest || s.second > sec || s.total === 0) continue;
      total += s.total;
      errors += s.errors5xx;
      for (let i = 0; i < N_BUCKETS; i++) merged[i] = (merged[i] ?? 0) + (s.counts[i] ?? 0);
    }
    return {
      windowSeconds: this.windowSeconds,
      requests: total,
      errors5xx: errors,
      rate5xx: total === 0 ? 0 : errors / total,
      p99Ms: quantile(merged, total, 0.99),
      p50Ms: quantile(merged, total, 0.5),
    };
  }
}

function quantile(counts: Float64Array, total: number, q: number): number {
  if (total === 0) return 0;
  // Nearest-rank: the smallest latency with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return Math.round((UPPER_EDGES[i] ?? 0) * 10) / 10;
  }
  return Math.round((UPPER_EDGES[N_BUCKETS - 1] ?? 0) * 10) / 10;
}

const windows = new WeakMap<object, RecentWindow>();

/** The window of one gateway context (one per process in the fleet; tests may build several). */
export function recentFor(ctx: object): RecentWindow {
  let w = windows.get(ctx);
  if (w === undefined) {
    w = new RecentWindow();
    windows.set(ctx, w);
  }
  return w;
}
