// Reading a user's Kubernetes manifest unchanged: YAML (one or several documents), the document of
// the wanted kind, the upstream schema (kubernetes-models), then our own zod model for the fields we
// act on. Every problem names the field, as `kubectl apply --validate=strict` would.
import YAML from 'yaml';
import type { z } from 'zod';
import { formatPath, formatZodIssues } from '../config/errors.ts';

export class ManifestError extends Error {
  readonly source: string;
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ManifestError';
    this.source = source;
    this.problems = problems;
  }
}

/** The document of `kind` in a YAML text; exactly one must be there. */
export function readManifest(text: string, source: string, kind: string): Record<string, unknown> {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true });
  const problems: string[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      problems.push(`${source}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0] ?? e.message}`);
    }
  }
  if (problems.length > 0) throw new ManifestError(source, problems);
  const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as unknown).filter((o) => o !== null && o !== undefined);
  const matching = objects.filter((o): o is Record<string, unknown> => typeof o === 'object' && !Array.isArray(o) && (o as Record<string, unknown>).kind === kind);
  if (matching.length === 0) {
    const kinds = objects.map((o) => (typeof o === 'object' && o !== null && 'kind' in o ? String((o as Record<string, unknown>).kind) : typeof o));
    throw new ManifestError(source, [`${source}: kind: expected a ${kind}, found ${kinds.length ? kinds.join(', ') : 'no document'}`]);
  }
  if (matching.length > 1) throw new ManifestError(source, [`${source}: found ${matching.length} ${kind} documents; give one`]);
  return matching[0]!;
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Runs a kubernetes-models validate() and turns its schema errors into field-named problems. */
export function checkUpstreamSchema(source: string, validate: () => void): void {
  try {
    validate();
  } catch (err) {
    const issues = (err as { errors?: unknown }).errors;
    if (!Array.isArray(issues)) throw new ManifestError(source, [`${source}: ${(err as Error).message}`]);
    throw new ManifestError(source, describeIssues(source, issues as AjvIssue[]));
  }
}

/** One line per field: a quantity's "oneOf string/number/format" noise becomes one readable message. */
function describeIssues(source: string, issues: readonly AjvIssue[]): string[] {
  const byPath = new Map<string, AjvIssue[]>();
  for (const issue of issues) {
    const path = (issue.instancePath ?? '').split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const missing = issue.keyword === 'required' ? issue.params?.missingProperty : undefined;
    const where = formatPath(typeof missing === 'string' ? [...path, missing] : path);
    byPath.set(where, [...(byPath.get(where) ?? []), issue]);
  }
  return [...byPath].map(([where, group]) => {
    if (group.some((i) => i.keyword === 'required')) return `${source}: ${where}: required`;
    if (group.some((i) => i.keyword === 'format' && i.params?.format === 'quantity')) return `${source}: ${where}: must be a quantity such as "500m", "20" or "1.5k"`;
    const messages = group
      .filter((i) => group.length === 1 || (i.keyword !== 'oneOf' && i.keyword !== 'anyOf'))
      .map((i) => (i.keyword === 'enum' && Array.isArray(i.params?.allowedValues) ? `must be one of ${i.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : (i.message ?? i.keyword ?? 'invalid')));
    return `${source}: ${where}: ${[...new Set(messages)].join('; ')}`;
  });
}

export function parseWith<T>(source: string, schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ManifestError(source, formatZodIssues(source, parsed.error.issues, raw));
  return parsed.data;
}

export { formatPath };
