// The drill journal: what a drill changed and how to undo it, written as the drill goes (durable,
// fsync'd), so `clawstorm drill rollback` can finish what a killed harness left behind.
//
// Every change is journalled *before* it is made (state `intent`) and marked `applied` after, so
// a kill between the two still gets it undone. Every undo is idempotent (start a gateway that
// runs → nothing; set a weight it already has → nothing), which is what makes undoing an intent
// that never happened safe. The journal never holds a secret: tokens are named, not stored.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { stateRoot } from '../testbed/state.ts';
import { TargetRefSchema, type TargetRef } from '../target/ref.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export const JOURNAL_VERSION = 1;

export const FaultModeSchema = z.enum(['crash', 'drain', 'hang']);
export type FaultMode = z.infer<typeof FaultModeSchema>;

/** How to put one change back. */
export const UndoSchema = z.discriminatedUnion('kind', [
  /** Start a stopped gateway again (same config and port) or SIGCONT a hung one. */
  z.strictObject({ kind: z.literal('gateway.restore'), gateway: z.string() }),
  /** HAProxy server administrative state back to what it was. */
  z.strictObject({ kind: z.literal('lb.state'), server: z.string(), state: z.enum(['ready', 'drain', 'maint']) }),
  z.strictObject({ kind: z.literal('lb.weight'), server: z.string(), weight: z.number().int().min(0).max(256) }),
  /** Admin fault settings of a gateway back to the values read before the change. */
  z.strictObject({ kind: z.literal('gateway.faults'), gateway: z.string(), patch: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])) }),
  /** Accepted gateway tokens back to these profile tokens (by name; values are read at undo time). */
  z.strictObject({ kind: z.literal('gateway.tokens'), gateways: z.array(z.string()), tokens: z.array(z.string()).min(1) }),
  /** Webhook admission settings back to the values read before. */
  z.strictObject({ kind: z.literal('hooks.admission'), gateway: z.string(), settings: z.record(z.string(), z.number()) }),
  /** Notifier settings back (window, sink). */
  z.strictObject({ kind: z.literal('notifier.config'), url: z.string(), settings: z.record(z.string(), z.unknown()) }),
  /** The canary's traffic share back to `percent` through the target profile's canary.setWeight command. */
  z.strictObject({ kind: z.literal('canary.weight'), gateway: z.string(), percent: z.number().min(0).max(100) }),
  /** A fault command of the target profile (start / resume) that reverses the fault. */
  z.strictObject({ kind: z.literal('command'), gateway: z.string(), fault: z.enum(['start', 'resume']) }),
]);
export type Undo = z.infer<typeof UndoSchema>;

export const EntryStateSchema = z.enum(['intent', 'applied', 'failed', 'rolled-back', 'rollback-failed']);
export type EntryState = z.infer<typeof EntryStateSchema>;

export const JournalEntrySchema = z.object({
  id: z.number().int().min(1),
  /** The step that made the change (`take-out`, `scope`, …). */
  step: z.string(),
  /** What was done, one line. */
  action: z.string(),
  undo: UndoSchema,
  state: EntryStateSchema,
  at: z.string(),
  rolledBackAt: z.string().optional(),
  error: z.string().optional(),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;


export const JournalStatusSchema = z.enum(['running', 'rolling-back', 'rolled-back', 'rollback-failed']);

export const JournalSchema = z.object({
  version: z.literal(JOURNAL_VERSION),
  id: z.string(),
  drill: z.string(),
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  target: TargetRefSchema,
  status: JournalStatusSchema,
  entries: z.array(JournalEntrySchema),
});
export type JournalData = z.infer<typeof JournalSchema>;

/**
 * `$CLAWSTORM_JOURNAL_DIR`; else, when the user named a state directory (`$CLAWSTORM_STATE_DIR`),
 * `journals/` inside it, so nothing ClawStorm writes lands outside what they chose (the bed
 * listing skips it: it has no bed state file); else `~/.cache/clawstorm/journals`.
 */
export function journalDir(): string {
  const env = process.env.CLAWSTORM_JOURNAL_DIR;
  if (env) return path.resolve(env);
  if (process.env.CLAWSTORM_STATE_DIR) return path.join(stateRoot(), 'journals');
  return path.join(path.dirname(stateRoot()), 'journals');
}

export class JournalError extends Error {
  readonly exitCode = 2;
}

export function readJournal(file: string): JournalData {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new JournalError(`${file}: cannot read drill journal (${code ?? (err as Error).message})`);
  }
  const parsed = JournalSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new JournalError(`${file}: not a drill journal (${i?.path.join('.') || '(top level)'}: ${i?.message ?? '?'})`);
  }
  return parsed.data;
}

/** Journals under `dir` whose changes are not all undone, newest first. */
export function unfinishedJournals(dir = journalDir()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ file: string; startedAt: string }> = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const file = path.join(dir, n);
    try {
      const j = readJournal(file);
      if (j.status !== 'rolled-back') out.push({ file, startedAt: j.startedAt });
    } catch {
      // not a journal
    }
  }
  return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt)).map((x) => x.file);
}

/** A journal being written by a running drill. */
export class Journal {
  readonly file: string;
  private data: JournalData;

  private constructor(file: string, data: JournalData) {
    this.file = file;
    this.data = data;
  }

  static create(opts: { file?: string; id: string; drill: string; target: TargetRef }): Journal {
    const file = path.resolve(opts.file ?? path.join(journalDir(), `${opts.id}.json`));
    const now = new Date().toISOString();
    const j = new Journal(file, {
      version: JOURNAL_VERSION,
      id: opts.id,
      drill: opts.drill,
      pid: process.pid,
      host: os.hostname(),
      startedAt: now,
      updatedAt: now,
      target: opts.target,
      status: 'running',
      entries: [],
    });
    j.flush();
    return j;
  }

  static open(file: string): Journal {
    return new Journal(path.resolve(file), readJournal(file));
  }

  get snapshot(): Readonly<JournalData> {
    return this.data;
  }

  /** Record a change about to be made; returns its entry id. */
  intent(step: string, action: string, undo: Undo): number {
    const id = this.data.entries.length + 1;
    this.data.entries.push({ id, step, action, undo: UndoSchema.parse(undo), state: 'intent', at: new Date().toISOString() });
    this.flush();
    return id;
  }

  mark(id: number, state: EntryState, error?: string): void {
    const e = this.data.entries.find((x) => x.id === id);
    if (!e) throw new Error(`journal ${this.file}: no entry ${id}`);
    e.state = state;
    if (state === 'rolled-back' || state === 'rollback-failed') e.rolledBackAt = new Date().toISOString();
    if (error !== undefined) e.error = error.slice(0, 500);
    else delete e.error;
    this.flush();
  }

  setStatus(status: JournalData['status']): void {
    this.data.status = status;
    this.flush();
  }

  /** Entries still to undo, last change first. */
  pending(): JournalEntry[] {
    return this.data.entries.filter((e) => e.state === 'intent' || e.state === 'applied' || e.state === 'rollback-failed' || e.state === 'failed').reverse();
  }

  private flush(): void {
    this.data.updatedAt = new Date().toISOString();
    writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600, forceMode: true, durable: true });
  }
}
