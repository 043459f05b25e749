// Parsing the expr-lang subset with jsep, then converting jsep's tree into ours.
//
// jsep is configured once, globally (its operator tables are static): this module owns that
// configuration, and nothing else in ClawStorm should import jsep directly. What differs from
// jsep's JavaScript defaults, and why:
// - `and`/`or`/`not` are aliases of `&&`/`||`/`!`; `^` is power (as in expr-lang), not XOR;
//   `nil` is the null literal and `null` is an ordinary (hence unknown) name.
// - Precedences follow expr-lang: `??` binds tighter than any other binary operator (expr-lang 500),
//   `==`/`!=`/`in` share the comparisons' level, `**`/`^` are right-associative.
// - Unary operators in expr-lang have a precedence too (`-`/`+` 90, `!`/`not` 50), so `-a ** 2`
//   is `-(a ** 2)` and `!a ?? b` is `!(a ?? b)`; jsep binds them tighter than everything, so the
//   conversion re-roots those cases.
// - `a < b < c` is a chained comparison (`a < b && b < c`), as in expr-lang.
// - expr-lang refuses `a ?? b + c` ("Operator (+) and coalesce expressions (??) cannot be
//   mixed"); KEDA validates formulas with expr-lang, so we refuse the same. Parentheses are what
//   make it legal, so a jsep hook marks parenthesised groups.
import jsep from 'jsep';
import type { BinaryOp, Node, UnaryOp } from './ast.ts';
import { show } from './ast.ts';
import { BUILTINS } from './builtins.ts';
import { ExprError } from './errors.ts';

const PAREN_MARK = '__clawstormParenthesized';
const OPAREN = 40; // '('

let configured = false;

function configureJsep(): void {
  if (configured) return;
  configured = true;
  jsep.addBinaryOp('or', 1);
  jsep.addBinaryOp('and', 2);
  for (const op of ['==', '!=', '<', '>', '<=', '>=', 'in']) jsep.addBinaryOp(op, 7);
  jsep.removeBinaryOp('^');
  jsep.addBinaryOp('^', 11, true);
  jsep.addBinaryOp('**', 11, true);
  jsep.addBinaryOp('??', 12);
  jsep.addUnaryOp('not');
  jsep.removeLiteral('null');
  jsep.addLiteral('nil', null);
  jsep.hooks.add('gobble-token', function markParenthesized(env) {
    if (this.code !== OPAREN) return;
    const inner = this.gobbleGroup();
    if (!inner) this.throwError('Empty parentheses');
    (inner as Record<string, unknown>)[PAREN_MARK] = true;
    env.node = this.gobbleTokenProperty(inner);
  });
}

const BINARY: Readonly<Record<string, BinaryOp>> = {
  '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '**': '**', '^': '**',
  '==': '==', '!=': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=',
  '&&': '&&', and: '&&', '||': '||', or: '||', '??': '??', in: 'in',
};
const UNARY: Readonly<Record<string, UnaryOp>> = { '-': '-', '+': '+', '!': '!', not: '!' };

/** expr-lang's precedences (parser/operator), used to re-root unary operators. */
const EXPR_BINARY_PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  '||': 10, '&&': 15, '==': 20, '!=': 20, '<': 20, '>': 20, '<=': 20, '>=': 20, in: 20,
  '+': 30, '-': 30, '*': 60, '/': 60, '%': 60, '**': 100, '??': 500,
};
const EXPR_UNARY_PRECEDENCE: Readonly<Record<UnaryOp, number>> = { '!': 50, '-': 90, '+': 90 };
const CHAINABLE = new Set<BinaryOp>(['<', '>', '<=', '>=']);

export interface Parsed {
  root: Node;
  identifiers: string[];
}

export function parseExpr(source: string): Parsed {
  configureJsep();
  if (source.trim() === '') throw new ExprError('empty expression');
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ExprError(`syntax error in ${JSON.stringify(source)}: ${msg}`);
  }
  const converter = new Converter(source);
  const root = converter.convert(tree);
  return { root, identifiers: converter.identifiers };
}

class Converter {
  readonly identifiers: string[] = [];
  private readonly parenthesized = new WeakSet<Node>();
  /** For a rewritten comparison chain, the comparison at its end (whose right side continues it). */
  private readonly chainTail = new WeakMap<Node, Node & { kind: 'binary' }>();
  private readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  convert(n: jsep.Expression): Node {
    const node = this.convertBare(n);
    if ((n as Record<string, unknown>)[PAREN_MARK] === true) this.parenthesized.add(node);
    return node;
  }

  private fail(what: string): never {
    throw new ExprError(`${what} in ${JSON.stringify(this.source)}`);
  }

  private convertBare(n: jsep.Expression): Node {
    switch (n.type) {
      case 'Literal': {
        const value = (n as jsep.Literal).value;
        if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value === null) {
          return { kind: 'literal', value };
        }
        return this.fail('unsupported literal');
      }
      case 'Identifier': {
        const name = (n as jsep.Identifier).name;
        if (!this.identifiers.includes(name)) this.identifiers.push(name);
        return { kind: 'identifier', name };
      }
      case 'MemberExpression': {
        const m = n as jsep.MemberExpression;
        const object = this.convert(m.object);
        const optional = m.optional === true;
        if (m.computed) return { kind: 'member', object, property: this.convert(m.property), computed: true, optional };
        if (m.property.type !== 'Identifier') return this.fail('a property name must follow "."');
        return { kind: 'member', object, property: { kind: 'literal', value: (m.property as jsep.Identifier).name }, computed: false, optional };
      }
      case 'CallExpression': {
        const c = n as jsep.CallExpression;
        if (c.callee.type !== 'Identifier') return this.fail('only the builtin functions can be called');
        const callee = (c.callee as jsep.Identifier).name;
        const builtin = BUILTINS[callee];
        if (!builtin) return this.fail(`unknown function ${callee}()`);
        const args = c.arguments.map((a) => this.convert(a));
        if (args.length < builtin.minArgs || args.length > builtin.maxArgs) {
          const want = builtin.minArgs === builtin.maxArgs ? `${builtin.minArgs}` : builtin.maxArgs === Infinity ? `at least ${builtin.minArgs}` : `${builtin.minArgs}…${builtin.maxArgs}`;
          return this.fail(`${callee}() takes ${want} argument(s), got ${args.length}`);
        }
        return { kind: 'call', callee, args };
      }
      case 'UnaryExpression': {
        const u = n as jsep.UnaryExpression;
        const op = UNARY[u.operator];
        if (!op) return this.fail(`operator ${u.operator} is not supported`);
        return { kind: 'unary', op, arg: this.convert(u.argument) };
      }
      case 'BinaryExpression': {
        const b = n as jsep.BinaryExpression;
        const op = BINARY[b.operator];
        if (!op) return this.fail(`operator ${b.operator} is not supported`);
        return this.binary(op, this.convert(b.left), this.convert(b.right));
      }
      case 'ConditionalExpression': {
        const c = n as jsep.ConditionalExpression;
        return { kind: 'conditional', test: this.convert(c.test), consequent: this.convert(c.consequent), alternate: this.convert(c.alternate) };
      }
      case 'ArrayExpression': {
        const a = n as jsep.ArrayExpression;
        const elements: Node[] = [];
        for (const e of a.elements) {
          if (e === null) return this.fail('an array literal cannot have holes');
          elements.push(this.convert(e));
        }
        return { kind: 'array', elements };
      }
      case 'Compound':
      case 'SequenceExpression':
        return this.fail('one expression expected (no ";" or "," sequences)');
      case 'ThisExpression':
        return this.fail('"this" is not supported');
      default:
        return this.fail(`unsupported construct ${n.type}`);
    }
  }

  private binary(op: BinaryOp, left: Node, right: Node): Node {
    // Re-root a unary operator that expr-lang binds looser than this binary operator.
    if (left.kind === 'unary' && !this.parenthesized.has(left) && EXPR_BINARY_PRECEDENCE[op] > EXPR_UNARY_PRECEDENCE[left.op]) {
      return { kind: 'unary', op: left.op, arg: this.binary(op, left.arg, right) };
    }
    if (op !== '??' && left.kind === 'binary' && left.op === '??' && !this.parenthesized.has(left)) {
      this.fail(`operator ${op} and coalesce expressions (??) cannot be mixed; wrap either in parentheses (${show(left)} ${op} …)`);
    }
    if (CHAINABLE.has(op) && !this.parenthesized.has(left)) {
      const tail = left.kind === 'binary' && CHAINABLE.has(left.op) ? left : this.chainTail.get(left);
      if (tail) {
        const next: Node & { kind: 'binary' } = { kind: 'binary', op, left: tail.right, right };
        const chain: Node = { kind: 'binary', op: '&&', left, right: next };
        this.chainTail.set(chain, next);
        return chain;
      }
    }
    return { kind: 'binary', op, left, right };
  }
}
