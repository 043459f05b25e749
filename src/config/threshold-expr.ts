// k6-style client threshold expressions over a metric summary:
//   p(95)<100ms   p(99.9)<=1s   avg<200   med<1.5s   max<2m   min>0
//   rate<0.001    count==0      count>=5000
// Latency values are normalised to milliseconds; a bare latency number is milliseconds (k6's
// convention). `count` and `rate` are unitless.
import type { CompareOp } from './common.ts';

export type Aggregation =
  | { kind: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' }
  | { kind: 'p'; p: number };

export interface ThresholdExpr {
  aggregation: Aggregation;
  op: CompareOp;
  /** Milliseconds for latency aggregations; the plain number for count and rate. */
  value: number;
  /** The expression as written (trimmed). */
  source: string;
}

export class ExprError extends Error {
  readonly expr: string;
  constructor(expr: string, message: string) {
    super(`bad threshold expression ${JSON.stringify(expr)}: ${message}`);
    this.name = 'ExprError';
    this.expr = expr;
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };

export function parseThresholdExpr(input: string): ThresholdExpr {
  const source = input.trim();
  let rest = source;
  const fail = (msg: string): never => {
    throw new ExprError(source, msg);
  };

  let aggregation: Aggregation;
  const pm = /^p\s*\(\s*([^)]*?)\s*\)/.exec(rest);
  const am = /^(avg|min|max|med|count|rate)(?![A-Za-z0-9_])/.exec(rest);
  if (pm) {
    const raw = pm[1] ?? '';
    if (!/^\d+(\.\d+)?$/.test(raw)) fail(`percentile ${JSON.stringify(raw)} is not a number (write p(95) or p(99.9))`);
    const p = Number(raw);
    if (p < 0 || p > 100) fail(`percentile ${p} is outside 0…100`);
    aggregation = { kind: 'p', p };
    rest = rest.slice(pm[0].length);
  } else if (am) {
    aggregation = { kind: am[1] as 'avg' };
    rest = rest.slice(am[0].length);
  } else {
    return fail('expected an aggregation at the start: avg, min, max, med, count, rate or p(N)');
  }
  const aggText = source.slice(0, source.length - rest.length);

  rest = rest.trimStart();
  const om = /^(<=|>=|==|!=|<|>)/.exec(rest);
  if (!om) {
    if (rest.startsWith('=')) fail(`use == for equality after ${aggText}`);
    fail(`expected a comparison (<, <=, >, >=, ==, !=) after ${aggText}`);
  }
  const op = om![1] as CompareOp;
  rest = rest.slice(om![0].length).trimStart();

  const nm = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?/i.exec(rest);
  if (!nm) return fail(`expected a number after ${op}`);
  let value = Number(nm[0]);
  rest = rest.slice(nm[0].length).trimStart();

  const um = /^[A-Za-zµ]+/.exec(rest);
  const isLatency = aggregation.kind !== 'count' && aggregation.kind !== 'rate';
  if (um) {
    const unit = um[0];
    if (!isLatency) fail(`${aggregation.kind} is unitless; drop ${JSON.stringify(unit)}`);
    const factor = UNIT_MS[unit];
    if (factor === undefined) fail(`unknown unit ${JSON.stringify(unit)} (expected ms, s or m)`);
    value *= factor!;
    rest = rest.slice(unit.length).trimStart();
  }
  if (rest.length > 0) fail(`unexpected ${JSON.stringify(rest)} after the value`);
  if (aggregation.kind === 'rate' && (value < 0 || value > 1)) fail(`rate is a fraction between 0 and 1 (got ${value})`);
  if (aggregation.kind === 'count' && (!Number.isInteger(value) || value < 0)) fail(`count compares with a whole number ≥ 0 (got ${value})`);

  return { aggregation, op, value, source };
}

export function aggregationLabel(a: Aggregation): string {
  return a.kind === 'p' ? `p(${a.p})` : a.kind;
}
