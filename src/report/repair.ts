// The results validation may never be what ends a run. When the in-memory results do not pass
// the schema (a NaN that slipped through, a value of the wrong type), the offending values are
// replaced by null (or dropped where null is not allowed), each change is said — which field,
// what value — and the run's verdict can no longer be a pass: what was written is not exactly
// what was measured (exit 3, unless a measured failure already decided exit 1).
import type { z } from 'zod';
import { exitCodeFor, worstVerdict } from '../score/verdict.ts';
import { ResultsSchema, type Results } from './results.ts';

export interface Repaired {
  results: Results;
  /** One line per repaired field; empty when the results were valid as they were. */
  problems: string[];
}

const MAX_PASSES = 20;

function describe(v: unknown): string {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    return typeof v;
  }
}

function container(root: unknown, path: readonly PropertyKey[]): { parent: Record<PropertyKey, unknown> | unknown[]; key: PropertyKey } | undefined {
  let cur: unknown = root;
  for (const k of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  if (cur === null || typeof cur !== 'object' || path.length === 0) return undefined;
  return { parent: cur as Record<PropertyKey, unknown>, key: path[path.length - 1]! };
}

/** Validate; repair what does not validate, saying what was changed. */
export function repairResults(input: unknown): Repaired {
  let data: unknown = structuredClone(input);
  const problems: string[] = [];
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const r = ResultsSchema.safeParse(data);
    if (r.success) return { results: problems.length > 0 ? withRepairNoted(r.data, problems) : r.data, problems };
    for (const issue of r.error.issues) problems.push(...repairOne(data, issue, pass));
    if (pass === 0 && data === null) data = {};
  }
  throw new Error(`results could not be repaired into a valid shape: ${problems.slice(0, 5).join('; ')}`);
}

function repairOne(root: unknown, issue: z.core.$ZodIssue, pass: number): string[] {
  const where = issue.path.map(String).join('.') || '(top level)';
  const c = container(root, issue.path);
  if (c === undefined) return [`${where}: ${issue.message} (left as is)`];
  const value = (c.parent as Record<PropertyKey, unknown>)[c.key];
  // First try null (most numbers are nullable); if null is refused too, drop the field; an
  // element of a list that still does not validate is dropped from the list.
  if (pass === 0 || value !== null) {
    (c.parent as Record<PropertyKey, unknown>)[c.key] = null;
    return [`${where}: ${describe(value)} is not valid here (${issue.message}); stored as null`];
  }
  if (Array.isArray(c.parent)) {
    c.parent.splice(Number(c.key), 1);
    return [`${where}: dropped from its list (${issue.message})`];
  }
  delete (c.parent as Record<PropertyKey, unknown>)[c.key];
  return [`${where}: dropped (${issue.message})`];
}

function withRepairNoted(r: Results, problems: string[]): Results {
  const verdict = worstVerdict([r.verdict, 'inconclusive']);
  return {
    ...r,
    verdict,
    exitCode: exitCodeFor(verdict),
    reasons: [...r.reasons, `results repaired before writing (${problems.length} field(s)): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`],
  };
}
