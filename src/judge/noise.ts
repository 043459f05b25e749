// Tiny Gaussian noise for a side whose values are all equal. With two constant sides every
// value is tied at the shift that lines them up, where the rank statistic has no variance; the
// canary judge breaks the ties with noise of standard deviation |value| × 1e-5, which gives the
// shift an interval of non-zero width. Ours is seeded, so the same inputs always give the same
// verdict.
import { mulberry32 } from './rng.ts';

export const NOISE_SCALE = 1e-5;
const SEED = 0x5eed_c1a5;

/** A copy of a constant side with N(0, (|value|·1e-5)²) added to each value, ascending. */
export function jitterConstant(values: Float64Array, salt: number): Float64Array {
  const v = values[0];
  if (v === undefined) return values;
  const sd = Math.abs(v) * NOISE_SCALE;
  if (sd === 0) return values; // zero has no scale to borrow; the other side's noise suffices
  const rand = mulberry32(SEED ^ salt);
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) {
    // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
    const u1 = 1 - rand();
    const u2 = rand();
    out[i] = v + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out.sort();
}
