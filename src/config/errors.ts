// Config errors: a profile, scenario or drill file that cannot be used is exit code 2, with one
// line per problem naming the file, the field and what was expected (never echoing a string
// value: it may be a secret).
import type { z } from 'zod';
import { redact } from '../util/redact.ts';

/** A profile that cannot be used; exit code 2 (usage/config). One line per problem. */
export class ProfileError extends Error {
  readonly exitCode = 2;
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(problems.map(redact).join('\n'));
    this.name = 'ProfileError';
    this.file = file;
    this.problems = problems.map(redact);
  }
}

/** `a.b[2].c` */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out || '(top level)';
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** What was there, without echoing strings: a string in a config may be a secret. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

/**
 * zod issues as `FILE: field.path: what was expected` lines. `raw` is the parsed YAML, used to
 * say what was found instead.
 */
export function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    const found = valueAt(raw, issue.path);
    let what: string;
    switch (issue.code) {
      case 'invalid_type':
        what = found === undefined ? `required: expected ${issue.expected}` : `expected ${issue.expected}, got ${describe(found)}`;
        break;
      case 'unrecognized_keys':
        what = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        break;
      case 'invalid_value':
        what = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeof found === 'string' ? JSON.stringify(found) : describe(found)}`;
        break;
      default:
        what = issue.message;
    }
    return `${file}: ${where}: ${what}`;
  });
}
