import { type MetricConfig, type MetricConfigInput, MetricConfigSchema, resolveMetricConfig } from '../../../src/judge/config.ts';

/** A seeded uniform generator (Park–Miller), so every test draws the same samples. */
export function uniform(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/** n values, roughly normal around `centre` with spread `sd` (sum of three uniforms). */
export function normalish(n: number, centre: number, sd: number, seed: number): number[] {
  const r = uniform(seed);
  // The sum of three U(0,1) has variance 1/4: scale by 2·sd.
  return Array.from({ length: n }, () => centre + 2 * sd * (r() + r() + r() - 1.5));
}

export function metricConfig(input: MetricConfigInput = {}): MetricConfig {
  return resolveMetricConfig(MetricConfigSchema.parse(input));
}

export const SETTINGS = { confidence: 0.98, tolerance: 0.25, maxSamplesPerSide: 100_000 };
