// Scenario templates (`{{user}}`, `'clawstorm-{{run}}-{{iteration}}'`, JSON bodies) as TypeScript
// expressions evaluated per iteration in the k6 script — the same rendering as ClawStorm's
// render(): a string that is exactly one variable keeps the variable's type, any other string is
// text with the values spliced in.
import { ExportError } from '../common.ts';

/** The variables ClawStorm gives every iteration (src/gate/journey.ts), as fields of the script's `v`. */
export const ITERATION_VARS = ['vu', 'iteration', 'user', 'tenant', 'run', 'uuid', 'now', 'nowMs'] as const;

export interface TemplateScope {
  /** Whether `{{requestId}}` exists here (tool args, HTTP headers and bodies; not paths, not ws params). */
  requestId: boolean;
  /** Names captured by steps of the same journey: present only once those steps answered. */
  captured: ReadonlySet<string>;
  /** The step, for the run-time message when a captured value is missing. */
  step: string;
  /** Where this template is in the scenario file, for export errors. */
  where: string;
}

const VAR = /\{\{\s*([a-zA-Z_]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*([a-zA-Z_]+)\s*\}\}$/;

function varExpr(name: string, scope: TemplateScope): string {
  if ((ITERATION_VARS as readonly string[]).includes(name)) return `v.${name}`;
  if (name === 'requestId' && scope.requestId) return 'requestId';
  if (scope.captured.has(name)) return `need(v, ${JSON.stringify(name)}, ${JSON.stringify(scope.step)})`;
  // ClawStorm would fail this step in every iteration; an export refuses it instead.
  throw new ExportError(`${scope.where}: unknown template variable {{${name}}} (known here: ${[...ITERATION_VARS, ...(scope.requestId ? ['requestId'] : []), ...scope.captured].join(', ')})`);
}

/** Text for inside a template literal: backslashes, backticks, `${` and control characters escaped. */
export function literalText(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/`/g, '\\`')
    .replace(/\$\{/g, '\\${')
    .replace(/[\u0000-\u001f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A template string as an expression: a literal, one variable, or a template literal. */
export function stringExpr(s: string, scope: TemplateScope): string {
  const whole = WHOLE.exec(s);
  if (whole) return varExpr(whole[1] as string, scope);
  if (!VAR.test(s)) return JSON.stringify(s);
  VAR.lastIndex = 0;
  let out = '';
  let last = 0;
  for (const m of s.matchAll(VAR)) {
    out += literalText(s.slice(last, m.index)) + '${' + varExpr(m[1] as string, scope) + '}';
    last = m.index + m[0].length;
  }
  return '`' + out + literalText(s.slice(last)) + '`';
}

/** Any template value (JSON with templated strings) as an expression; long objects span lines. */
export function templateExpr(t: unknown, scope: TemplateScope, indent = ''): string {
  if (typeof t === 'string') return stringExpr(t, scope);
  if (t === null || typeof t === 'number' || typeof t === 'boolean') return JSON.stringify(t);
  const inner = indent + '  ';
  if (Array.isArray(t)) {
    const items = t.map((x) => templateExpr(x, scope, inner));
    return layout('[', items, ']', indent);
  }
  if (typeof t === 'object') {
    const items = Object.entries(t as Record<string, unknown>).map(([k, x]) => `${propertyKey(k)}: ${templateExpr(x, scope, inner)}`);
    return layout('{', items, '}', indent);
  }
  throw new ExportError(`${scope.where}: a template holds ${typeof t}, which JSON has no place for`);
}

function layout(open: string, items: string[], close: string, indent: string): string {
  if (items.length === 0) return open + close;
  const flat = `${open} ${items.join(', ')} ${close}`;
  if (flat.length <= 100 && !flat.includes('\n')) return open === '[' ? `[${items.join(', ')}]` : flat;
  if (open === '[' && items.every((x) => x.length < 20 && !x.includes('\n'))) {
    // A long list of short values (a journey mix): packed, several per line.
    const rows: string[] = [];
    let row = '';
    for (const x of items) {
      if (row !== '' && row.length + x.length + 2 > 96) {
        rows.push(row);
        row = '';
      }
      row += (row === '' ? '' : ' ') + x + ',';
    }
    rows.push(row);
    return `[\n${rows.map((r) => `${indent}  ${r}`).join('\n')}\n${indent}]`;
  }
  return `${open}\n${items.map((x) => `${indent}  ${x},`).join('\n')}\n${indent}${close}`;
}

/** An object key as written in TypeScript: bare when it is an identifier, quoted otherwise. */
export function propertyKey(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k);
}

/** A plain value (no templates) as a TypeScript literal, laid out like templateExpr's. */
export function literal(x: unknown, indent = ''): string {
  if (x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return JSON.stringify(x);
  const inner = indent + '  ';
  if (Array.isArray(x)) return layout('[', x.map((e) => literal(e, inner)), ']', indent);
  if (typeof x === 'object') return layout('{', Object.entries(x as Record<string, unknown>).map(([k, e]) => `${propertyKey(k)}: ${literal(e, inner)}`), '}', indent);
  throw new TypeError(`no literal for ${typeof x}`);
}
