// The functions conditions and formulas call: expr-lang's builtins that real Argo Rollouts and
// KEDA templates use, plus the helpers Argo adds to its environment (asInt, asFloat, isNaN,
// isInf, isNil, default). Each refuses an argument of the wrong type with an error, as the Go
// originals do (a type error turns an Argo measurement into Error, never into a silent false).
import { ExprError } from './errors.ts';
import { goRound, isMap, parseGoFloat, parseGoInt, typeName, type Value } from './values.ts';

export interface Builtin {
  minArgs: number;
  maxArgs: number;
  call(args: readonly Value[], where: string): Value;
}

function num(v: Value, fn: string, where: string): number {
  if (typeof v !== 'number') throw new ExprError(`${fn}() needs a number, got ${typeName(v)} in ${where}`);
  return v;
}

function unary(fn: string, f: (x: number) => number): Builtin {
  return { minArgs: 1, maxArgs: 1, call: (args, where) => f(num(args[0] ?? null, fn, where)) };
}

/** min/max over arguments, or over the single array argument; like Go, a NaN only wins when first. */
function extremum(fn: string, better: (a: number, b: number) => boolean): Builtin {
  return {
    minArgs: 1,
    maxArgs: Infinity,
    call(args, where) {
      const first = args[0];
      const items: readonly unknown[] = args.length === 1 && Array.isArray(first) ? first : args;
      if (items.length === 0) throw new ExprError(`${fn}() of an empty array in ${where}`);
      let best = num((items[0] ?? null) as Value, fn, where);
      for (const item of items.slice(1)) {
        const x = num((item ?? null) as Value, fn, where);
        if (better(x, best)) best = x;
      }
      return best;
    },
  };
}

function asInt(v: Value, fn: string, where: string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ExprError(`${fn}(${v}) has no integer value in ${where}`);
    return Math.trunc(v);
  }
  if (typeof v === 'string') {
    const parsed = parseGoInt(v);
    if (parsed === undefined) throw new ExprError(`${fn}(${JSON.stringify(v)}): not an integer in ${where}`);
    return parsed;
  }
  throw new ExprError(`${fn}() not supported on ${typeName(v)} in ${where}`);
}

function asFloat(v: Value, fn: string, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const parsed = parseGoFloat(v);
    if (parsed === undefined) throw new ExprError(`${fn}(${JSON.stringify(v)}): not a number in ${where}`);
    return parsed;
  }
  throw new ExprError(`${fn}() not supported on ${typeName(v)} in ${where}`);
}

export const BUILTINS: Readonly<Record<string, Builtin>> = {
  len: {
    minArgs: 1,
    maxArgs: 1,
    call([v], where) {
      if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
      if (Array.isArray(v)) return v.length;
      if (isMap(v)) return Object.keys(v).length;
      throw new ExprError(`len() of ${typeName(v ?? null)} in ${where}`);
    },
  },
  abs: unary('abs', Math.abs),
  ceil: unary('ceil', Math.ceil),
  floor: unary('floor', Math.floor),
  round: unary('round', goRound),
  min: extremum('min', (a, b) => a < b),
  max: extremum('max', (a, b) => a > b),
  int: { minArgs: 1, maxArgs: 1, call: ([v], where) => asInt(v ?? null, 'int', where) },
  float: { minArgs: 1, maxArgs: 1, call: ([v], where) => asFloat(v ?? null, 'float', where) },
  asInt: { minArgs: 1, maxArgs: 1, call: ([v], where) => asInt(v ?? null, 'asInt', where) },
  asFloat: { minArgs: 1, maxArgs: 1, call: ([v], where) => asFloat(v ?? null, 'asFloat', where) },
  isNaN: { minArgs: 1, maxArgs: 1, call: ([v], where) => Number.isNaN(num(v ?? null, 'isNaN', where)) },
  isInf: {
    minArgs: 1,
    maxArgs: 1,
    call([v], where) {
      const x = num(v ?? null, 'isInf', where);
      return x === Infinity || x === -Infinity;
    },
  },
  isNil: { minArgs: 1, maxArgs: 1, call: ([v]) => v === null || v === undefined },
  default: {
    minArgs: 2,
    maxArgs: 2,
    call([v, fallback]) {
      const empty = v === null || v === undefined || (Array.isArray(v) && v.length === 0);
      return empty ? (fallback ?? null) : v;
    },
  },
};
