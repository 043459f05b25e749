// Nearest-rank percentile of a small sample (a storm's acknowledgement times): always one of the
// values seen, never an interpolation between them. No values: null, not 0.
export function nearestRank(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
