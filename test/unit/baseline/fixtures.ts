import type { ComparableRun, ComparableScenario } from '../../../src/baseline/compare.ts';
import { LatencyHistogram } from '../../../src/load/histogram.ts';

/** Park–Miller uniform in (0, 1). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export interface LatencyShape {
  /** Median latency, ms. */
  medianMs?: number;
  /** Log-scale spread. */
  sigma?: number;
  /** Added to every sample, ms. */
  shiftMs?: number;
  /** Multiply the samples above this latency (ms) by `tailFactor`: a slower tail, same body. */
  tailAboveMs?: number;
  tailFactor?: number;
}

/** Log-normal latencies, recorded the way the load engine records them: in an HDR histogram. */
export function latencyHistogram(count: number, seed: number, shape: LatencyShape = {}): LatencyHistogram {
  const { medianMs = 80, sigma = 0.25, shiftMs = 0, tailAboveMs = Number.POSITIVE_INFINITY, tailFactor = 1 } = shape;
  const r = uniform(seed);
  const h = new LatencyHistogram();
  for (let i = 0; i < count; i++) {
    const z = Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
    let ms = medianMs * Math.exp(sigma * z) + shiftMs;
    if (ms > tailAboveMs) ms *= tailFactor;
    h.recordMs(ms);
  }
  return h;
}

/** A stored scenario as results.json keeps it, plus its encoded latency histogram. */
export function scenario(name: string, h: LatencyHistogram | null, errors = 0, requests = h?.count ?? 0): ComparableScenario & { title: string; status: string } {
  return { name, title: name, status: 'Pass', requests, errors, histogram: h === null ? null : h.encode() };
}

export function run(runId: string, scenarios: ComparableScenario[]): ComparableRun {
  return { runId, scenarios };
}
