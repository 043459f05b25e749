// Schema pieces every config file shares (target profiles, scenarios, drills, analyses): names,
// durations, comparisons, PromQL and client threshold expressions. One definition each, so a
// duration or a query means the same thing in every file.
import { z } from 'zod';
import { checkPromQL } from '../prom/syntax.ts';
import { parseDuration } from '../util/duration.ts';
import { parseThresholdExpr } from './threshold-expr.ts';

/** Scenario, drill and step ids: lower-case, as they appear in file names and reports. */
export const LowerName = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a lower-case name of letters, digits, ".", "_" or "-"');

/** Profile, gateway and token names. */
export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"');

function durationIssue(v: string, ctx: z.RefinementCtx): number | undefined {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return undefined;
  }
}

/** A duration kept as written (`5m`), checked to parse. */
export const DurationText = z.string().superRefine((s, ctx) => {
  durationIssue(s, ctx);
});

/** A duration as written (`5s`, `1m30s`) or a number of milliseconds → milliseconds. */
export const DurationMs = z.union([z.string(), z.number().min(0)]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  return durationIssue(v, ctx) ?? z.NEVER;
});

/** A positive duration as written or a number of seconds → seconds. */
export const DurationSeconds = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = durationIssue(v, ctx);
  if (ms === undefined) return z.NEVER;
  if (ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `duration ${JSON.stringify(v)} must be greater than 0` });
    return z.NEVER;
  }
  return ms / 1000;
});

export const CompareOpSchema = z.enum(['<', '<=', '>', '>=', '==', '!=']);
export type CompareOp = z.output<typeof CompareOpSchema>;

export const PromQLSchema = z.string().superRefine((q, ctx) => {
  const problem = checkPromQL(q);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message });
});

/** A k6-style client threshold expression (`p(95)<100ms`, `rate<0.001`, `count==0`). */
export const ThresholdExprText = z.string().superRefine((s, ctx) => {
  try {
    parseThresholdExpr(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
