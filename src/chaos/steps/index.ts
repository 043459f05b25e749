// The registry of drill step kinds: the one list the schema, the preflight, the engine and the
// error messages derive from. A new kind is a file here and one line below.
import { z } from 'zod';
import { DurationMs, LowerName } from '../../config/common.ts';
import command from './command.ts';
import diskFill from './disk-fill.ts';
import expectHttp from './expect-http.ts';
import gatewayFault from './gateway-fault.ts';
import gatewayFaults from './gateway-faults.ts';
import gatewayRestore from './gateway-restore.ts';
import lbState from './lb-state.ts';
import lbWeight from './lb-weight.ts';
import type { StepKind } from './step.ts';
import { clientsRotate, tokensOverlap, tokensRevoke } from './tokens.ts';
import waitStable from './wait-stable.ts';
import wait from './wait.ts';
import webhooksRedeliver from './webhooks-redeliver.ts';
import watermarkEnforce from './watermark-enforce.ts';

export const STEP_KINDS = [
  gatewayFault,
  gatewayRestore,
  gatewayFaults,
  lbState,
  lbWeight,
  command,
  tokensOverlap,
  clientsRotate,
  tokensRevoke,
  waitStable,
  expectHttp,
  diskFill,
  watermarkEnforce,
  wait,
  webhooksRedeliver,
] as const;

export type StepKey = (typeof STEP_KINDS)[number]['key'];
export const STEP_KEYS: readonly StepKey[] = STEP_KINDS.map((k) => k.key);

const OptionValue = z.union([z.string(), z.number(), z.boolean()]);

/** When and whether a step runs; every kind has these beside its one action key. */
export const StepBase = {
  id: LowerName.optional(),
  name: z.string().optional(),
  /** Earliest start, from the start of the method (after warm-up). */
  at: DurationMs.optional(),
  /** Or: this long after the previous step finished. */
  after: DurationMs.optional(),
  /** Run only when this (rendered) value holds: truthy (non-empty, not 0, not false), or `a == b` / `a != b`. */
  if: OptionValue.optional(),
};

type StepBaseOut = { id?: string | undefined; name?: string | undefined; at?: number | undefined; after?: number | undefined; if?: string | number | boolean | undefined };
type ActionOf<K> = K extends StepKind<infer Key, infer S> ? { [P in Key]: z.output<S> } : never;
/** A parsed step: its timing fields and exactly one action. */
export type Step = StepBaseOut & ActionOf<(typeof STEP_KINDS)[number]>;

export const StepSchema = z.union(STEP_KINDS.map((k) => z.strictObject({ ...StepBase, [k.key]: k.schema })) as unknown as [z.ZodType<Step>, ...z.ZodType<Step>[]]);

export function kindOf(s: Step): StepKind {
  const k = STEP_KINDS.find((x) => x.key in s);
  if (k === undefined) throw new Error('step without an action');
  return k as unknown as StepKind;
}

export function actionOf(s: Step): unknown {
  return (s as Record<string, unknown>)[kindOf(s).key];
}

export function stepLabel(s: Step, i: number): string {
  return s.name ?? s.id ?? `${kindOf(s).key} #${i + 1}`;
}
