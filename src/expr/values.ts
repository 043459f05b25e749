// The value model of the interpreter: Go-like dynamic values over JSON-shaped data.
// nil is `null` (an env entry that is `undefined` is also nil); every number is a float64;
// arrays and plain objects (maps) come from the environment or from array literals.
import { ExprError } from './errors.ts';

export type Value = null | boolean | number | string | readonly unknown[] | Readonly<Record<string, unknown>>;

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if (isMap(v)) return 'map';
  return typeof v;
}

export function isMap(v: unknown): v is Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Brings an environment value into the model; functions, class instances, bigints are refused. */
export function fromEnv(v: unknown, where: string): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v) || isMap(v)) return v;
  throw new ExprError(`${where} has a value of unsupported type ${typeof v}`);
}

/** expr-lang's `==`: numbers numerically (NaN equals nothing), arrays element-wise, mixed types unequal. */
export function equal(a: unknown, b: unknown): boolean {
  const na = a === undefined ? null : a;
  const nb = b === undefined ? null : b;
  if (na === null || nb === null) return na === nb;
  if (typeof na === 'number' && typeof nb === 'number') return na === nb;
  if (typeof na !== typeof nb) return false;
  if (Array.isArray(na)) {
    if (!Array.isArray(nb) || na.length !== nb.length) return false;
    return na.every((x, i) => equal(x, nb[i]));
  }
  if (isMap(na)) {
    if (!isMap(nb)) return false;
    const ka = Object.keys(na);
    if (ka.length !== Object.keys(nb).length) return false;
    return ka.every((k) => Object.hasOwn(nb, k) && equal(na[k], nb[k]));
  }
  return na === nb;
}

/** Go's math.Pow where it differs from JavaScript's `**` (1 to any power, and -1 to ±Inf, are 1). */
export function goPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** Go's math.Round: half away from zero (JavaScript's Math.round goes half up). */
export function goRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** strconv.ParseFloat for the forms a metric value or an argument takes. */
export function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (!special) return undefined;
  if (special[2]!.toLowerCase() === 'nan') return special[1] === '' ? NaN : undefined;
  return special[1] === '-' ? -Infinity : Infinity;
}

/** strconv.ParseInt(s, 10, 64). */
export function parseGoInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const big = BigInt(s);
  if (big > 9223372036854775807n || big < -9223372036854775808n) return undefined;
  return Number(big);
}
