// Rollbacks: undo every journalled change, last first. Run by the drill engine on success,
// failure, Ctrl-C and exceptions alike, and by `clawstorm drill rollback` for a drill whose
// harness was killed.
import { profileForBed } from '../target/bind.ts';
import { resolveTokens } from '../target/tokens.ts';
import { readState } from '../testbed/state.ts';
import { redact } from '../util/redact.ts';
import { applyUndo } from './actions.ts';
import { Journal, journalDir, unfinishedJournals } from './journal.ts';
import { chaosTargetFrom, resolveChaosTarget, type ChaosTarget } from '../target/target.ts';
import os from 'node:os';
import path from 'node:path';
import { cmdline, isAlive } from '../util/proc.ts';

export interface RollbackOutcome {
  journal: string;
  drill: string;
  undone: string[];
  failed: string[];
  skipped: string[];
  ok: boolean;
}

const ATTEMPTS = 3;

/** Undo what `journal` still holds against `target`. Each undo is tried up to 3 times. */
export async function rollback(j: Journal, target: ChaosTarget, log: (line: string) => void = () => {}): Promise<RollbackOutcome> {
  const out: RollbackOutcome = { journal: j.file, drill: j.snapshot.drill, undone: [], failed: [], skipped: [], ok: true };
  const pending = j.pending();
  if (pending.length === 0) {
    if (j.snapshot.status !== 'rolled-back') j.setStatus('rolled-back');
    return out;
  }
  j.setStatus('rolling-back');
  for (const e of pending) {
    let lastErr: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const what = await applyUndo(target, e.undo);
        j.mark(e.id, 'rolled-back');
        out.undone.push(`${e.step}: ${what}`);
        log(`rollback: ${e.step}: ${what}`);
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
    if (lastErr !== undefined) {
      const msg = redact((lastErr as Error).message);
      j.mark(e.id, 'rollback-failed', msg);
      out.failed.push(`${e.step}: ${e.action}: ${msg}`);
      log(`rollback: FAILED ${e.step} (${e.action}): ${msg}`);
    }
  }
  out.ok = out.failed.length === 0;
  j.setStatus(out.ok ? 'rolled-back' : 'rollback-failed');
  return out;
}

/** The target a journal names, bound again (tokens are read again from env/files). */
export function targetOfJournal(j: Journal): ChaosTarget | { down: string } {
  const ref = j.snapshot.target;
  if (ref.kind === 'testbed') {
    let state;
    try {
      state = readState(ref.stateDir);
    } catch (err) {
      return { down: `test bed at ${ref.stateDir} is gone (${(err as Error).message})` };
    }
    // Never resurrect gateways of a bed that was stopped meanwhile.
    if (state.phase !== 'up' || state.endpoints === undefined) return { down: `test bed ${state.id} is ${state.phase}` };
    const profile = profileForBed(state.endpoints);
    return chaosTargetFrom({ profile, tokens: resolveTokens(profile), testbed: state.endpoints });
  }
  return resolveChaosTarget({ targetFile: ref.file, what: 'rollback', chaos: false });
}

/** `clawstorm drill rollback`: the given journal, or every unfinished one in the journal dir. */
/** The harness that wrote the journal still runs (same host, same pid, a Node process). */
export function writerAlive(j: Journal): boolean {
  const { pid, host, status } = j.snapshot;
  if (status !== 'running' && status !== 'rolling-back') return false;
  if (host !== os.hostname() || pid === process.pid || !isAlive(pid)) return false;
  const argv = cmdline(pid) ?? [];
  return argv.some((a) => /node|clawstorm|vitest/.test(path.basename(a)));
}

export async function rollbackJournals(opts: { journal?: string; log?: (line: string) => void; force?: boolean } = {}): Promise<RollbackOutcome[]> {
  const log = opts.log ?? (() => {});
  const files = opts.journal !== undefined ? [opts.journal] : unfinishedJournals();
  if (files.length === 0) {
    log(`rollback: no unfinished drill journal in ${journalDir()}`);
    return [];
  }
  const outcomes: RollbackOutcome[] = [];
  for (const file of files) {
    const j = Journal.open(file);
    if (!opts.force && writerAlive(j)) {
      // Undoing the faults of a drill that still runs would fight it; it rolls back itself.
      log(`rollback: ${file}: drill ${j.snapshot.drill} is still running (pid ${j.snapshot.pid}); it rolls back on its own — stop it, or pass --force`);
      outcomes.push({ journal: file, drill: j.snapshot.drill, undone: [], failed: [], skipped: j.pending().map((e) => `${e.step}: ${e.action}`), ok: false });
      continue;
    }
    log(`rollback: ${file} (drill ${j.snapshot.drill}, started ${j.snapshot.startedAt} by pid ${j.snapshot.pid}, ${j.pending().length} change(s) to undo)`);
    const target = targetOfJournal(j);
    if ('down' in target) {
      const out: RollbackOutcome = { journal: file, drill: j.snapshot.drill, undone: [], failed: [], skipped: j.pending().map((e) => `${e.step}: ${e.action}`), ok: true };
      log(`rollback: ${target.down}: nothing left to restore`);
      j.setStatus('rolled-back');
      outcomes.push(out);
      continue;
    }
    outcomes.push(await rollback(j, target, log));
  }
  return outcomes;
}

