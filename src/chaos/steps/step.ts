// What a drill step is: the schema of its action, the names it refers to (checked before the
// drill starts), and what it does. Steps that change the target change it through journalled()
// (src/faults/actions.ts) so the engine's rollback, and `drill rollback` after a killed harness,
// can undo them; a step never undoes its own change.
import type { z } from 'zod';
import type { Journal } from '../../faults/journal.ts';
import type { ThresholdResult } from '../../score/types.ts';
import type { ChaosTarget } from '../../target/target.ts';
import type { DrillLoad } from '../load.ts';

export type Figure = number | string | boolean | null;

/** Tokens a drill minted, by name; the profile's own are on the target. */
export interface DrillTokens {
  get(name: string): string;
  add(name: string, value: string): void;
  readonly minted: ReadonlyMap<string, string>;
}

export interface StepContext {
  target: ChaosTarget;
  journal: Journal;
  /** The step's id (`step-3` when the file gives none): journal entries and `<id>.<figure>` names. */
  id: string;
  /** The step's name for people (its `name`, or its kind and position). */
  label: string;
  runId: string;
  signal: AbortSignal;
  /** The drill's load, when it runs one. */
  load: DrillLoad | undefined;
  tokens: DrillTokens;
  /** A timeline event (`fault`, `recover`, `measure`, `phase`). */
  ev(label: string, kind?: string): void;
  figure(name: string, value: Figure): void;
  threshold(r: ThresholdResult): void;
  /** Abortable: false when the drill was aborted meanwhile. */
  sleep(ms: number): Promise<boolean>;
  /** When the step with this id started (ms since the epoch); undefined when it has not run. */
  markAt(id: string): number | undefined;
  /**
   * Work the engine runs after the method and before the journal is rolled back (also on abort
   * and failure): clients that followed a token rotation move back before the rotation is undone.
   */
  beforeRollback(fn: () => Promise<void>): void;
}

/** A name the step refers to: checked against the target before anything starts. */
export interface StepRef {
  field: string;
  kind: 'gateway' | 'server';
  name: string;
}

export interface StepKind<K extends string = string, S extends z.ZodType = z.ZodType> {
  key: K;
  schema: S;
  refs?: (action: z.output<S>, gatewayNames: readonly string[]) => StepRef[];
  run(action: z.output<S>, ctx: StepContext): Promise<void>;
}

/** Keeps each step's action typed by its own schema while the registry holds them side by side. */
export function defineStep<K extends string, S extends z.ZodType>(kind: StepKind<K, S>): StepKind<K, S> {
  return kind;
}

/** `all` or a list of gateway names. */
export function gatewaysIn(set: 'all' | readonly string[], all: readonly string[]): string[] {
  return set === 'all' ? [...all] : [...set];
}
