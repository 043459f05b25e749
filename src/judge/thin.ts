// Deterministic, proportional thinning: keep `cap` of `total` ordered items, spread evenly.
// Item i (0-based) is kept when ⌊(i+1)·cap/total⌋ > ⌊i·cap/total⌋, so every stretch of the order
// keeps its share to within one item. Applied to ascending values this keeps the distribution's
// quantiles; no random draw, so the same input always gives the same sample.

/** How many of the first `upTo` items (in order) are kept. */
export function keptBefore(upTo: number, total: number, cap: number): number {
  if (total <= cap) return upTo;
  return Math.floor((upTo * cap) / total);
}

/** At most `cap` evenly spaced values of an ascending array (the array itself when it fits). */
export function thinSorted(sorted: Float64Array, cap: number): Float64Array {
  const total = sorted.length;
  if (total <= cap) return sorted;
  const out = new Float64Array(keptBefore(total, total, cap));
  let k = 0;
  let prev = 0;
  for (let i = 0; i < total; i++) {
    const next = keptBefore(i + 1, total, cap);
    if (next > prev && k < out.length) out[k++] = sorted[i] as number;
    prev = next;
  }
  return out;
}
