/** Median of the finite values; NaN when there are none (no data, never 0). */
export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Fixed decimals, or "-" for no data. */
export function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

/** A goal line: PASS/FAIL with the figures, or NO DATA when a figure is missing. */
export function goalLine(name: string, value: number, op: '>=' | '<=', bound: number, unit = ''): { name: string; verdict: 'PASS' | 'FAIL' | 'NO DATA'; value: number | null; bound: number; line: string } {
  if (!Number.isFinite(value)) return { name, verdict: 'NO DATA', value: null, bound, line: `NO DATA  ${name}: no measurement` };
  const ok = op === '>=' ? value >= bound : value <= bound;
  const verdict = ok ? 'PASS' : 'FAIL';
  return { name, verdict, value, bound, line: `${verdict.padEnd(7)}  ${name}: ${fmt(value, 2)}${unit} (goal ${op} ${bound}${unit})` };
}
