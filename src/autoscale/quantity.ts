// Kubernetes resource quantities ("500m", "20", "1.5k", "2Gi", "1e3") as milli-units, the integer
// scale the HPA computes in. Parsed exactly (BigInt), because "0.57" × 1000 in floating point is
// 569.999…, and Quantity.MilliValue() is ceil(q × 1000): a float slip would change a replica count.

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?))$/;

/** ceil(q × 1000) of a quantity string or YAML number; undefined when it is not a quantity. */
export function quantityToMilli(q: string | number): number | undefined {
  const text = typeof q === 'number' ? (Number.isFinite(q) ? numberText(q) : '') : q.trim();
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign, mantissa = '', exponent, binary, decimal] = m;
  const [whole = '', fraction = ''] = mantissa.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0') * 1000n;
  let denominator = 10n ** BigInt(fraction.length);
  let power10 = 0;
  if (exponent !== undefined) power10 = Number(exponent.slice(1));
  else if (binary !== undefined) numerator *= 2n ** BigInt(BINARY_SUFFIX[binary] ?? 0);
  else power10 = DECIMAL_SUFFIX[decimal ?? ''] ?? 0;
  if (power10 >= 0) numerator *= 10n ** BigInt(power10);
  else denominator *= 10n ** BigInt(-power10);
  const negative = sign === '-';
  // ceil toward +∞: for a positive value round the quotient up, for a negative one truncate.
  let milli = numerator / denominator;
  if (!negative && numerator % denominator !== 0n) milli += 1n;
  const value = Number(negative ? -milli : milli);
  return Object.is(value, -0) ? 0 : value;
}

/** A float as the plain decimal text a quantity parser accepts (no "1e-7" surprises beyond e/E). */
function numberText(x: number): string {
  return String(x).replace('e+', 'e');
}

/** A float metric value (Prometheus sample) as the milli-quantity adapters hand the HPA: truncated. */
export function floatToMilli(x: number): number {
  // toPrecision(15) first: 0.57 × 1000 is 569.9999999999999 in binary floating point.
  return Math.trunc(Number((x * 1000).toPrecision(15)));
}

/** KEDA's metric quantities: fmt "%.3f" of the value, NaN/±Inf/negative as 0. */
export function kedaMilli(x: number): number {
  if (!Number.isFinite(x) || x < 0) return 0;
  return Math.round(Number((x * 1000).toPrecision(15)));
}
