// Number formatting shared by every report format. Deterministic (no locale from the
// environment), so filling a template twice gives byte-identical output.

export const NONE = '--';

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const numFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function nonFinite(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return undefined;
}

/** Milliseconds with a unit: `0.420 ms`, `4.21 ms`, `42.1 ms`, `421 ms`, `4.21 s`, `42.1 s`, `421 s`. */
export function formatMs(ms: number | null | undefined, opts: { trim?: boolean } = {}): string {
  if (ms === null || ms === undefined) return NONE;
  const nf = nonFinite(ms);
  if (nf) return nf;
  const a = Math.abs(ms);
  // Thresholds are written as round numbers: `< 5 s`, not `< 5.00 s`.
  if (opts.trim) return a >= 1000 ? `${Number((ms / 1000).toPrecision(6))} s` : `${Number(ms.toPrecision(6))} ms`;
  if (a < 1) return `${ms.toFixed(3)} ms`;
  if (a < 10) return `${ms.toFixed(2)} ms`;
  if (a < 100) return `${ms.toFixed(1)} ms`;
  if (a < 1000) return `${ms.toFixed(0)} ms`;
  const s = ms / 1000;
  if (a < 10_000) return `${s.toFixed(2)} s`;
  if (a < 100_000) return `${s.toFixed(1)} s`;
  return `${intFmt.format(s)} s`;
}

/**
 * A ratio (0…1) as a percentage with two decimals. Values that would round to 0.00% or 100.00%
 * without being exactly that say so (`<0.01%`, `>99.99%`): "one error in a million" is not zero
 * and "99.9996% complete" is not complete. `trim` drops trailing zeros (for thresholds: `< 0.1%`).
 */
export function formatPct(ratio: number | null | undefined, opts: { trim?: boolean } = {}): string {
  if (ratio === null || ratio === undefined) return NONE;
  const nf = nonFinite(ratio);
  if (nf) return nf;
  const pct = ratio * 100;
  if (opts.trim) return `${Number(pct.toPrecision(6))}%`;
  if (pct > 0 && pct < 0.01) return '<0.01%';
  if (pct < 100 && pct > 99.99) return '>99.99%';
  return `${pct.toFixed(2)}%`;
}

export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return NONE;
  return nonFinite(v) ?? numFmt.format(v);
}

export function formatBytes(v: number): string {
  const nf = nonFinite(v);
  if (nf) return nf;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i += 1;
  }
  return `${i === 0 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

/** A value in a metric row's unit (`s`, `ms`, `ratio`, `req/s`, `bytes`, `count`). */
export function formatValue(v: number | null | undefined, unit: string | undefined, opts: { trim?: boolean } = {}): string {
  if (v === null || v === undefined) return NONE;
  switch (unit) {
    case 's':
      return formatMs(v * 1000, opts);
    case 'ms':
      return formatMs(v, opts);
    case 'ratio':
      return formatPct(v, opts);
    case 'req/s':
      return `${formatNumber(v)} req/s`;
    case 'bytes':
      return formatBytes(v);
    default:
      return formatNumber(v);
  }
}

/** `< 500 ms`, `> 1,000 req/s`, `< 0.1%`. */
export function formatCondition(op: string, value: number, unit: string | undefined): string {
  return `${op} ${formatValue(value, unit, { trim: true })}`;
}

/** `> 85% for 5m`, `< 500 req/s sustained`. */
export function formatAlert(a: { op: string; value: number; for?: string | undefined }, unit: string | undefined): string {
  return `${formatCondition(a.op, a.value, unit)} ${a.for === undefined ? 'sustained' : a.for === '0s' ? 'at any time' : `for ${a.for}`}`;
}

/** A figure as every format shows it: a value, or "no data" with why (a null is never shown as 0 or "null"). */
export function figureText(v: number | string | boolean | null | undefined, reason?: string): string {
  if (v === undefined || v === null) return reason ? `no data (${reason})` : 'no data';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  return String(v);
}

/**
 * Long decimals in a line of prose (a scorer's detail, `worst 0.00019886363636363642 meets < 0.1`)
 * shortened to four significant digits, so a table cell fits a page. Integers and short
 * decimals are left as written.
 */
export function roundLongNumbers(text: string): string {
  return text.replace(/-?\d+\.\d{5,}(?:e[-+]?\d+)?/gi, (m) => String(Number(Number(m).toPrecision(4))));
}
