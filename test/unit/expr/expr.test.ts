import { describe, expect, it } from 'vitest';
import { compileExpr, ExprError } from '../../../src/expr/index.ts';

const run = (src: string, env: Record<string, unknown> = {}): unknown => compileExpr(src).evaluate(env);

function evalError(src: string, env: Record<string, unknown> = {}): ExprError {
  const compiled = compileExpr(src);
  try {
    compiled.evaluate(env);
  } catch (err) {
    if (err instanceof ExprError) return err;
    throw err;
  }
  throw new Error(`expected ${src} to fail, it gave ${JSON.stringify(compiled.evaluate(env))}`);
}

function compileError(src: string): ExprError {
  try {
    compileExpr(src);
  } catch (err) {
    if (err instanceof ExprError) return err;
    throw err;
  }
  throw new Error(`expected ${src} not to compile`);
}

describe('arithmetic (float64)', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['7 / 2', 3.5],
    ['10 - 4 - 3', 3],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['2 ** 10', 1024],
    ['2 ^ 3', 8],
    ['2 ** 3 ** 2', 512],
    ['-2 ** 2', -4],
    ['(-2) ** 2', 4],
    ['-x * 2', -6],
    ['+x', 3],
    ['1.5e3 + .5', 1500.5],
  ])('%s = %s', (src, want) => {
    expect(run(src, { x: 3 })).toBe(want);
  });

  it('division by zero gives the IEEE results Go gives', () => {
    expect(run('1 / 0')).toBe(Infinity);
    expect(run('-1 / 0')).toBe(-Infinity);
    expect(Number.isNaN(run('0 / 0'))).toBe(true);
  });

  it('% is integer-only, like expr-lang', () => {
    expect(evalError('7.5 % 2').message).toMatch(/% needs whole numbers/);
    expect(evalError('7 % 0').message).toMatch(/integer divide by zero/);
  });

  it('power follows Go math.Pow at its edges', () => {
    expect(run('1 ** x', { x: NaN })).toBe(1);
    expect(run('(-1) ** x', { x: Infinity })).toBe(1);
  });

  it('string and array concatenation with +; mixed types are an error', () => {
    expect(run('"a" + "b"')).toBe('ab');
    expect(run('[1] + [2, 3]')).toEqual([1, 2, 3]);
    expect(evalError('"a" + 1').message).toMatch(/invalid operation: string \+ float/);
    expect(evalError('-"a"').message).toMatch(/unary - needs a number/);
  });
});

describe('comparisons', () => {
  it.each([
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 4', false],
    ['4 >= 4', true],
    ['1 == 1.0', true],
    ['"a" < "b"', true],
    ['"a" == "a"', true],
    ['1 == "1"', false],
    ['nil == nil', true],
    ['x == nil', false],
    ['[1, 2] == [1, 2]', true],
    ['1 != 2', true],
    ['1 < x < 5', true],
    ['1 < x < 2', false],
  ])('%s is %s', (src, want) => {
    expect(run(src, { x: 3 })).toBe(want);
  });

  it('NaN compares false both ways (an Argo metric with both conditions is Inconclusive)', () => {
    const env = { result: NaN };
    expect(run('result >= 0.9', env)).toBe(false);
    expect(run('result < 0.9', env)).toBe(false);
    expect(run('result == result', env)).toBe(false);
    expect(run('isNaN(result) || result >= 0.9', env)).toBe(true);
  });

  it('+Inf passes a lower bound', () => {
    expect(run('result >= 0.9', { result: Infinity })).toBe(true);
  });

  it('ordering different types is an error', () => {
    expect(evalError('1 < "2"').message).toMatch(/invalid operation: float < string/);
    expect(evalError('x < 1', { x: null }).message).toMatch(/nil < float/);
  });
});

describe('logic', () => {
  it.each([
    ['true && false', false],
    ['true and true', true],
    ['false || true', true],
    ['false or false', false],
    ['!true', false],
    ['not false', true],
    ['not true or true', true],
    ['!(1 > 2) && 2 > 1', true],
  ])('%s is %s', (src, want) => {
    expect(run(src)).toBe(want);
  });

  it('short-circuits: the right side is not evaluated when the left decides', () => {
    expect(run('false && result[0] > 1', { result: [] })).toBe(false);
    expect(run('true || result[0] > 1', { result: [] })).toBe(true);
    expect(run('len(result) == 0 || result[0] < 0.01', { result: [] })).toBe(true);
  });

  it('operands must be bools', () => {
    expect(evalError('1 && true').message).toMatch(/&& needs bools, got float/);
    expect(evalError('true && "x"').message).toMatch(/&& needs bools, got string in true && "x"/);
    expect(evalError('false || "x"').message).toMatch(/\|\| needs bools, got string/);
    expect(evalError('!1').message).toMatch(/! needs a bool/);
  });
});

describe('nil-coalescing ?? and the ternary', () => {
  it('?? gives the right side only for nil', () => {
    expect(run('a ?? 7', { a: null })).toBe(7);
    expect(run('a ?? 7', { a: 0 })).toBe(0);
    expect(run('a ?? b ?? 3', { a: null, b: null })).toBe(3);
    expect(run('(a ?? 0) + (b ?? 0)', { a: null, b: 2 })).toBe(2);
  });

  it('?? binds tighter than any other operator: b + a ?? 7 is b + (a ?? 7)', () => {
    expect(run('b + a ?? 7', { a: null, b: 1 })).toBe(8);
    expect(run('-a ?? 4', { a: null })).toBe(-4);
  });

  it('mixing ?? with a following operator without parentheses is refused, as expr-lang does', () => {
    expect(compileError('a ?? 0 + b').message).toMatch(/cannot be mixed; wrap either in parentheses/);
    expect(compileError('a ?? 0 > 5').message).toMatch(/cannot be mixed/);
    expect(() => compileExpr('(a ?? 0) > 5')).not.toThrow();
  });

  it('ternary picks a branch and needs a bool test', () => {
    expect(run('q > 8 ? "scale" : "hold"', { q: 9 })).toBe('scale');
    expect(run('q > 8 ? "scale" : "hold"', { q: 1 })).toBe('hold');
    expect(run('a ? 1 : b ? 2 : 3', { a: false, b: true })).toBe(2);
    expect(evalError('q ? 1 : 2', { q: 1 }).message).toMatch(/condition of \?: must be a bool/);
  });
});

describe('indexing and member access', () => {
  it('indexes arrays, negative from the end', () => {
    expect(run('result[0]', { result: [10, 11] })).toBe(10);
    expect(run('result[-1]', { result: [10, 11] })).toBe(11);
  });

  it('an out-of-range index is an error (an empty Prometheus vector makes the measurement Error)', () => {
    const err = evalError('result[0] >= 0.95', { result: [] });
    expect(err.message).toMatch(/index out of range: 0 \(array length is 0\) in result\[0\]/);
    expect(evalError('result[2]', { result: [1] }).message).toMatch(/index out of range: 2/);
  });

  it('indexing nil is an error', () => {
    expect(evalError('result[0]', { result: null }).message).toMatch(/cannot fetch 0 from nil/);
    expect(evalError('a.b', { a: null }).message).toMatch(/cannot fetch "b" from nil/);
  });

  it('reads map members; a missing key is nil; ?. stops at nil', () => {
    const env = { r: { status: 'success', data: { n: 3 } }, none: null };
    expect(run('r.status == "success"', env)).toBe(true);
    expect(run('r.data.n', env)).toBe(3);
    expect(run('r["status"]', env)).toBe('success');
    expect(run('r.missing', env)).toBe(null);
    expect(run('none?.x', env)).toBe(null);
    expect(run('none?.x ?? 5', env)).toBe(5);
  });

  it('array literals and in', () => {
    expect(run('[1, x, 3]', { x: 2 })).toEqual([1, 2, 3]);
    expect(run('x in [1, 2, 3]', { x: 2 })).toBe(true);
    expect(run('"k" in m', { m: { k: 1 } })).toBe(true);
    expect(evalError('1 in 2').message).toMatch(/invalid operation/);
  });
});

describe('functions', () => {
  it.each([
    ['len(result)', { result: [1, 2, 3] }, 3],
    ['len("héllo")', {}, 6],
    ['len(m)', { m: { a: 1 } }, 1],
    ['abs(-2.5)', {}, 2.5],
    ['ceil(1.2)', {}, 2],
    ['floor(-1.2)', {}, -2],
    ['round(2.5)', {}, 3],
    ['round(-2.5)', {}, -3],
    ['min(3, 1, 2)', {}, 1],
    ['max(3, 1, 2)', {}, 3],
    ['max(result)', { result: [4, 9, 2] }, 9],
    ['int(2.9)', {}, 2],
    ['int(-2.9)', {}, -2],
    ['int("42")', {}, 42],
    ['float("1.5")', {}, 1.5],
    ['asInt("7")', {}, 7],
    ['asInt(7.9)', {}, 7],
    ['asFloat("0.25")', {}, 0.25],
    ['asFloat(3)', {}, 3],
    ['isInf(x)', { x: -Infinity }, true],
    ['isInf(x)', { x: 1 }, false],
    ['isNaN(x)', { x: 1 }, false],
    ['isNil(x)', { x: null }, true],
    ['isNil(x)', { x: [] }, false],
    ['default(x, 5)', { x: null }, 5],
    ['default(x, 5)', { x: [] }, 5],
    ['default(x, 5)', { x: 2 }, 2],
  ])('%s with %j = %j', (src, env, want) => {
    expect(run(src, env)).toEqual(want);
  });

  it('refuses arguments of the wrong type', () => {
    expect(evalError('isNaN(result)', { result: [1] }).message).toMatch(/isNaN\(\) needs a number, got array/);
    expect(evalError('asInt("1.5")').message).toMatch(/not an integer/);
    expect(evalError('asFloat("abc")').message).toMatch(/not a number/);
    expect(evalError('len(1)').message).toMatch(/len\(\) of float/);
    expect(evalError('min(result)', { result: [] }).message).toMatch(/empty array/);
    expect(evalError('asInt(x)', { x: true }).message).toMatch(/not supported on bool/);
  });

  it('unknown functions and wrong arity fail at compile time', () => {
    expect(compileError('sqrt(4)').message).toMatch(/unknown function sqrt\(\)/);
    expect(compileError('default(1)').message).toMatch(/default\(\) takes 2 argument\(s\), got 1/);
    expect(compileError('len(1, 2)').message).toMatch(/len\(\) takes 1 argument/);
    expect(compileError('a.b(1)').message).toMatch(/only the builtin functions can be called/);
  });
});

describe('environment', () => {
  it('an unknown identifier is an error at evaluation, not undefined', () => {
    expect(evalError('trig_a + 1', { trig_b: 1 }).message).toMatch(/unknown name trig_a/);
    // `null` is not a literal in expr-lang: it is a name like any other.
    expect(evalError('null').message).toMatch(/unknown name null/);
  });

  it('an env entry holding undefined reads as nil', () => {
    expect(run('x ?? 1', { x: undefined })).toBe(1);
  });

  it('lists the identifiers it reads, once each, in order; function names are not identifiers', () => {
    expect(compileExpr('max(b, a) + a ?? c').identifiers).toEqual(['b', 'a', 'c']);
    expect(compileExpr('1 + 2').identifiers).toEqual([]);
  });

  it('refuses values that are not data', () => {
    expect(evalError('f', { f: () => 1 }).message).toMatch(/unsupported type function/);
  });

  it('keeps its source', () => {
    expect(compileExpr('result[0] > 1').source).toBe('result[0] > 1');
  });
});

describe('syntax errors and unsupported constructs', () => {
  it.each([
    ['', /empty expression/],
    ['1 +', /syntax error/],
    ['(1 + 2', /syntax error/],
    ['a | b', /operator \| is not supported/],
    ['a & b', /operator & is not supported/],
    ['a === b', /operator === is not supported/],
    ['~a', /operator ~ is not supported/],
    ['a; b', /one expression expected/],
    ['this', /"this" is not supported/],
    ['[1, , 2]', /holes/],
  ])('%j is refused', (src, pattern) => {
    const err = compileError(src);
    expect(err).toBeInstanceOf(ExprError);
    expect(err.message).toMatch(pattern);
  });
});
