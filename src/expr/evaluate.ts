// The tree-walking interpreter. Type errors, unknown names and bad indexes throw ExprError: Argo
// Rollouts relies on `result[0]` of an empty vector being an error (the measurement becomes Error,
// not Failed), and KEDA rejects a formula that names no trigger.
import { show, type BinaryOp, type Node } from './ast.ts';
import { BUILTINS } from './builtins.ts';
import { ExprError } from './errors.ts';
import { equal, fromEnv, goPow, isMap, typeName, type Value } from './values.ts';

export function evaluate(node: Node, env: Readonly<Record<string, unknown>>): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'identifier':
      if (!Object.hasOwn(env, node.name)) throw new ExprError(`unknown name ${node.name}`);
      return fromEnv(env[node.name], node.name);
    case 'member':
      return member(node, env);
    case 'call': {
      const builtin = BUILTINS[node.callee];
      if (!builtin) throw new ExprError(`unknown function ${node.callee}()`);
      return builtin.call(node.args.map((a) => evaluate(a, env)), show(node));
    }
    case 'unary': {
      const v = evaluate(node.arg, env);
      if (node.op === '!') {
        if (typeof v !== 'boolean') throw new ExprError(`! needs a bool, got ${typeName(v)} in ${show(node)}`);
        return !v;
      }
      if (typeof v !== 'number') throw new ExprError(`unary ${node.op} needs a number, got ${typeName(v)} in ${show(node)}`);
      return node.op === '-' ? -v : v;
    }
    case 'binary':
      return binary(node, env);
    case 'conditional': {
      const test = evaluate(node.test, env);
      if (typeof test !== 'boolean') throw new ExprError(`the condition of ?: must be a bool, got ${typeName(test)} in ${show(node)}`);
      return evaluate(test ? node.consequent : node.alternate, env);
    }
    case 'array':
      return node.elements.map((e) => evaluate(e, env));
  }
}

function member(node: Node & { kind: 'member' }, env: Readonly<Record<string, unknown>>): Value {
  const object = evaluate(node.object, env);
  if (object === null && node.optional) return null;
  const key = evaluate(node.property, env);
  if (Array.isArray(object)) {
    if (typeof key !== 'number') throw new ExprError(`an array index must be a number, got ${typeName(key)} in ${show(node)}`);
    // Go's Fetch: the index is truncated to an integer, and negative counts from the end.
    let i = Math.trunc(key);
    if (i < 0) i += object.length;
    if (!(i >= 0 && i < object.length)) {
      throw new ExprError(`index out of range: ${Math.trunc(key)} (array length is ${object.length}) in ${show(node)}`);
    }
    return fromEnv(object[i], show(node));
  }
  if (isMap(object)) {
    if (typeof key !== 'string') throw new ExprError(`a map key must be a string, got ${typeName(key)} in ${show(node)}`);
    // A missing key reads as nil, as it does on a Go map.
    return Object.hasOwn(object, key) ? fromEnv(object[key], show(node)) : null;
  }
  throw new ExprError(`cannot fetch ${JSON.stringify(key)} from ${typeName(object)} in ${show(node)}`);
}

function binary(node: Node & { kind: 'binary' }, env: Readonly<Record<string, unknown>>): Value {
  const { op } = node;
  if (op === '&&' || op === '||') {
    const left = evaluate(node.left, env);
    if (typeof left !== 'boolean') throw new ExprError(`${op} needs bools, got ${typeName(left)} in ${show(node)}`);
    if (op === '&&' ? !left : left) return left;
    const right = evaluate(node.right, env);
    if (typeof right !== 'boolean') throw new ExprError(`${op} needs bools, got ${typeName(right)} in ${show(node)}`);
    return right;
  }
  if (op === '??') {
    const left = evaluate(node.left, env);
    return left !== null ? left : evaluate(node.right, env);
  }
  const left = evaluate(node.left, env);
  const right = evaluate(node.right, env);
  switch (op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case 'in':
      return contains(right, left, node);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compare(op, left, right, node);
    case '+':
      if (typeof left === 'number' && typeof right === 'number') return left + right;
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      throw mismatch(op, left, right, node);
    default:
      if (typeof left !== 'number' || typeof right !== 'number') throw mismatch(op, left, right, node);
      return arithmetic(op, left, right, node);
  }
}

function arithmetic(op: BinaryOp, a: number, b: number, node: Node): number {
  switch (op) {
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b; // float division: ±Inf and NaN as Go floats give them
    case '**':
      return goPow(a, b);
    case '%':
      // expr-lang's % is integer-only; on whole numbers it truncates like Go.
      if (!Number.isInteger(a) || !Number.isInteger(b)) throw new ExprError(`% needs whole numbers, got ${a} % ${b} in ${show(node)}`);
      if (b === 0) throw new ExprError(`integer divide by zero in ${show(node)}`);
      return a % b;
    default:
      throw new ExprError(`operator ${op} is not arithmetic in ${show(node)}`);
  }
}

function compare(op: '<' | '>' | '<=' | '>=', a: Value, b: Value, node: Node): boolean {
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) throw mismatch(op, a, b, node);
  // NaN compares false either way, so a metric with both conditions set is Inconclusive on NaN.
  switch (op) {
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
  }
}

function contains(haystack: Value, needle: Value, node: Node): boolean {
  if (Array.isArray(haystack)) return haystack.some((x) => equal(x, needle));
  if (isMap(haystack)) {
    if (typeof needle !== 'string') throw mismatch('in', needle, haystack, node);
    return Object.hasOwn(haystack, needle);
  }
  throw mismatch('in', needle, haystack, node);
}

function mismatch(op: string, a: Value, b: Value, node: Node): ExprError {
  return new ExprError(`invalid operation: ${typeName(a)} ${op} ${typeName(b)} in ${show(node)}`);
}
