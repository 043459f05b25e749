// Seeded randomness for the judge: the same input must always give the same verdict.

/** mulberry32: a small, fast 32-bit generator; ample for tie-breaking noise and subsampling. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Keep a uniform random `cap` of the first `length` values of `buf`, in place (a partial
 * Fisher–Yates shuffle: O(cap), no sort of the whole array), and return them as a sub-view.
 */
export function subsampleInPlace(buf: Float64Array, length: number, cap: number, seed: number): Float64Array {
  if (length <= cap) return buf.subarray(0, length);
  const rand = mulberry32(seed);
  for (let i = 0; i < cap; i++) {
    const j = i + Math.floor(rand() * (length - i));
    const t = buf[i] as number;
    buf[i] = buf[j] as number;
    buf[j] = t;
  }
  return buf.subarray(0, cap);
}
