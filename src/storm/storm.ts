// `clawstorm storm webhooks`: a webhook retry storm (plan §4). N senders deliver keyed events
// through the load balancer, first all at once (the herd), then spread over the storm; the two
// retry disciplines run the same storm one after the other — the same fault at the same moment —
// so their figures sit side by side in one table. Options: a gateway restart or crash in the
// middle of each storm, and at-least-once redelivery of a share of acknowledged deliveries.
//
// This file only orchestrates: the settings the storm runs under (journalled, always rolled
// back), each discipline's phase (phase.ts), the bad-token storm (bad-token.ts), the verdict
// (results.ts).
import { hooksAdmission, notifierConfig } from '../faults/actions.ts';
import { Journal } from '../faults/journal.ts';
import { rollback, type RollbackOutcome } from '../faults/rollback.ts';
import type { DrillResult } from '../report/results.ts';
import { runsEndpointOf, tokenOf, type ChaosTarget } from '../target/target.ts';
import { newRunId } from '../util/ids.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { redact } from '../util/redact.ts';
import { timeline } from '../util/timeline.ts';
import { runBadToken, type BadTokenFigures } from './bad-token.ts';
import type { StormRun } from './context.ts';
import { validateStormOptions, type StormOptions } from './options.ts';
import { runPhase, type PhaseFigures } from './phase.ts';
import { describeSchedule } from './schedule.ts';
import type { DuplicateEvidence } from '../webhooks/duplicates.ts';
import { stormResults } from './results.ts';
import type { StormSecond } from '../report/results.ts';
import type { Discipline } from '../webhooks/sender.ts';

export interface StormOutcome {
  results: DrillResult[];
  phases: Partial<Record<Discipline, PhaseFigures>>;
  /** Both runs of each duplicate found, per discipline. */
  evidence: Partial<Record<Discipline, DuplicateEvidence[]>>;
  badToken?: BadTokenFigures;
  aborted: boolean;
  rollback: RollbackOutcome;
  journal: string;
}

export async function runStorm(t: ChaosTarget, opts: StormOptions, ctl: { signal?: AbortSignal; log?: (l: string) => void; journalFile?: string } = {}): Promise<StormOutcome> {
  const log = ctl.log ?? (() => {});
  const signal = ctl.signal;
  const runId = newRunId('storm');
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const { events, ev } = timeline('storm', t0, log);
  validateStormOptions(opts, t);
  const journal = Journal.create({ ...(ctl.journalFile ? { file: ctl.journalFile } : {}), id: runId, drill: 'storm-webhooks', target: t.ref });
  ev(`webhook storm against ${t.profile.name}: ${opts.senders} senders × ${opts.deliveries} deliveries, ${opts.disciplines.join(' then ')}, fault ${opts.fault}, redeliveries ${opts.redeliveries.map(describeSchedule).join(' ') || 'none'} aimed ${opts.aims.join(', ')}; journal ${journal.file}`, 'phase');
  const run: StormRun = {
    t,
    opts,
    runId,
    journal,
    ev,
    signal,
    errors: [],
    runsEp: runsEndpointOf(t),
    hookToken: tokenOf(t, 'hook'),
    loopback: isLoopbackHost(new URL(t.lbUrl).hostname),
    // Admission settings exist on the reference gateways of the local test bed, and are changed
    // only where the profile allows chaos.
    tuneAdmission: opts.admission !== null && t.testbed !== undefined && t.testbed.kind !== 'openclaw' && t.profile.allowChaos,
  };
  const phases: Partial<Record<Discipline, PhaseFigures>> = {};
  const evidence: Partial<Record<Discipline, DuplicateEvidence[]>> = {};
  const seconds: Partial<Record<Discipline, StormSecond[]>> = {};
  let badToken: BadTokenFigures | undefined;
  let rb: RollbackOutcome = { journal: journal.file, drill: 'storm-webhooks', undone: [], failed: [], skipped: [], ok: true };
  let aborted = false;

  try {
    if (run.tuneAdmission && opts.admission !== null) {
      for (const g of t.gateways) await hooksAdmission(t, journal, 'admission', g.name, opts.admission);
      ev(`webhook admission for the storm: ${JSON.stringify(opts.admission)} on every gateway`, 'fault');
    }
    if (opts.digestWindowMs !== null && t.notifierUrl !== undefined && t.profile.allowChaos) {
      await notifierConfig(t, journal, 'digest-window', { windowMs: opts.digestWindowMs });
      ev(`notifier: one digest per ${opts.digestWindowMs / 1000} s window`, 'fault');
    }
    if (opts.digestSinkDown) {
      if (t.notifierUrl === undefined || !t.profile.allowChaos) throw new Error('digestSinkDown needs the notifier of a target that allows chaos');
      // Port 9 (discard) on loopback: nothing listens, every publish fails fast.
      await notifierConfig(t, journal, 'digest-sink-down', { sink: { kind: 'http', url: 'http://127.0.0.1:9/digests', timeoutMs: 1_000 } });
      ev('notifier: digest sink down for the storm (fallback counter takes over)', 'fault');
    }

    for (const discipline of opts.disciplines) {
      if (signal?.aborted) break;
      const p = await runPhase(run, discipline);
      phases[discipline] = p.figures;
      evidence[discipline] = p.evidence;
      seconds[discipline] = p.seconds;
    }
    if (opts.badToken && !signal?.aborted) badToken = await runBadToken(run);
  } catch (err) {
    run.errors.push(redact((err as Error).message));
    ev(`error: ${redact((err as Error).message)}`, 'error');
  } finally {
    aborted = signal?.aborted === true;
    ev(`rollbacks: ${journal.pending().length} change(s) to undo`, 'phase');
    rb = await rollback(journal, t, (l) => log(`storm: ${l}`)).catch((err: Error) => ({ ...rb, ok: false, failed: [err.message] }));
    ev(rb.ok ? 'rollbacks done' : `rollbacks incomplete: run 'clawstorm drill rollback --journal ${journal.file}'`, 'phase');
  }

  const results = stormResults({ opts, phases, evidence, seconds, badToken, hasNotifier: t.notifierUrl !== undefined, errors: run.errors, rollback: rb, aborted, startedAt, events, durationMs: Date.now() - t0 });
  return { results, phases, evidence, ...(badToken ? { badToken } : {}), aborted, rollback: rb, journal: journal.file };
}
