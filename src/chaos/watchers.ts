// What a drill watches besides its hypothesis, each turned into figures its criteria judge:
//   lb-down / lb-up / promql-until — time from a mark until a condition holds, polled as a track
//     (first success ends it; the deadline leaves the figure null: not seen, never a zero);
//   client-errors / client-status  — counted from the drill's own load between marks;
//   queue-depth                    — the webhook backlog's high-water and its drain time;
//   webhook-accounting             — every acknowledged webhook looked up: lost, duplicated, and
//                                    each duplicate class where a redelivery tested it.
import { valuesOf } from '../prom/read.ts';
import { showServersState } from '../lb/runtime.ts';
import { compare } from '../score/types.ts';
import { Track } from '../score/track.ts';
import { runTracks, type Measure } from '../score/track-run.ts';
import { processLogsOf, type ChaosTarget } from '../target/target.ts';
import { sleep } from '../util/sleep.ts';
import { account, queueDepthOf, type RunsEndpoint } from '../webhooks/accounting.ts';
import { keyAnswers } from '../webhooks/acks.ts';
import { classifyDuplicates, describeEvidence, duplicateFigures, DUPLICATE_CLASSES } from '../webhooks/duplicates.ts';
import { processResolver, processStartsInLogs } from '../webhooks/processes.ts';
import type { DrillLoad } from './load.ts';
import type { Watch } from './schema.ts';
import type { Figure } from './steps/step.ts';

type TimedWatch = Extract<Watch, { kind: 'lb-down' | 'lb-up' | 'promql-until' }>;

const LB_POLL_MS = 50;
const PROM_POLL_MS = 200;
/** A watcher gives up on a source that stays unreadable this long (a busy socket is retried). */
const UNREADABLE_MS = 5_000;

export interface WatchContext {
  target: ChaosTarget;
  signal: AbortSignal;
  figures: Record<string, Figure>;
  ev: (label: string, kind?: string) => void;
}

function condition(w: TimedWatch, t: ChaosTarget): { intervalMs: number; measure: Measure; what: string } {
  if (w.kind === 'promql-until') {
    return {
      intervalMs: PROM_POLL_MS,
      what: `Prometheus: ${w.query} ${w.op} ${w.value}`,
      measure: async () => {
        if (t.prom === undefined) return { phase: 'Error', value: null, detail: 'no Prometheus for this target' };
        const read = valuesOf(await t.prom.instant(w.query), w.query);
        if (!read.ok) return { phase: 'Error', value: null, detail: `no data yet: ${read.reason}` };
        const vs = read.values;
        const ok = vs.every((v) => compare(v, w.op, w.value));
        return { phase: ok ? 'Successful' : 'Failed', value: vs[0] ?? null, detail: `${vs.join(', ')}` };
      },
    };
  }
  const want = w.kind === 'lb-down' ? 'DOWN' : 'UP';
  return {
    intervalMs: LB_POLL_MS,
    what: `${w.server} ${want} in the load balancer`,
    measure: async () => {
      if (t.haproxy === undefined) return { phase: 'Error', value: null, detail: 'no load balancer runtime API for this target' };
      const s = (await showServersState(t.haproxy)).find((x) => x.name === w.server);
      if (s === undefined) return { phase: 'Error', value: null, detail: `no server ${w.server}` };
      // Back UP means checked healthy again, not just out of maintenance.
      const ok = s.opState === want && (want === 'DOWN' || s.checkStatus.startsWith('L7OK'));
      return { phase: ok ? 'Successful' : 'Failed', value: null, detail: `${s.status} (check ${s.checkStatus})` };
    },
  };
}

/** Start the timed watchers that begin at mark `id`; their figures are null until seen. */
export function startWatchers(watch: readonly Watch[], id: string, ctx: WatchContext): Promise<void>[] {
  const jobs: Promise<void>[] = [];
  for (const w of watch) {
    if (!('from' in w) || w.from !== id) continue;
    if (w.kind !== 'lb-down' && w.kind !== 'lb-up' && w.kind !== 'promql-until') continue;
    jobs.push(watchUntil(w, ctx));
  }
  return jobs;
}

async function watchUntil(w: TimedWatch, ctx: WatchContext): Promise<void> {
  ctx.figures[w.name] = null;
  const { intervalMs, measure, what } = condition(w, ctx.target);
  const from = Date.now();
  const track = new Track(
    {
      name: w.name,
      intervalMs,
      count: Math.ceil(w.timeout / intervalMs) + 1,
      consecutiveSuccessLimit: 1,
      failureLimit: -1,
      consecutiveErrorLimit: Math.ceil(UNREADABLE_MS / intervalMs),
    },
    from,
  );
  await runTracks([{ track, measure }], { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(w.timeout + intervalMs)]) });
  const first = track.measurements.find((m) => m.phase === 'Successful');
  if (track.phase === 'Successful' && first !== undefined) {
    ctx.figures[w.name] = first.at - from;
    ctx.ev(w.kind === 'promql-until' ? `Prometheus: ${w.name.replace(/_ms$/, '').replace(/_/g, ' ')} after ${first.at - from} ms` : `${what} after ${first.at - from} ms`, 'measure');
  } else if (!ctx.signal.aborted) {
    ctx.ev(`${what}: not seen within ${w.timeout} ms (${track.message})`, 'measure');
  }
}

/** Samples the fleet-wide webhook queue depth while the load runs; high-water only. */
export class QueueSampler {
  high: number | null = null;
  #on = false;
  #loop: Promise<void> | undefined;

  start(runs: RunsEndpoint, intervalMs: number): void {
    if (this.#on) return;
    this.#on = true;
    this.#loop = (async () => {
      for (let i = 0; i < 1_000_000 && this.#on; i++) {
        const d = await queueDepthOf(runs, 800);
        if (d !== null) this.high = Math.max(this.high ?? 0, d);
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#on = false;
    await this.#loop;
  }
}

/** Drain time: from the end of the load until the fleet-wide queue is empty (null: not within 30 s). */
export async function drainTime(runs: RunsEndpoint, loadStoppedAt: number, timeoutMs = 30_000): Promise<number | null> {
  for (let i = 0; i < 10_000; i++) {
    if ((await queueDepthOf(runs, 1_000)) === 0) return Date.now() - loadStoppedAt;
    if (Date.now() - loadStoppedAt > timeoutMs) return null;
    await sleep(100);
  }
  return null;
}

/** Figures counted from the drill's own load: errors between marks, responses with a status. */
export function loadFigures(watch: readonly Watch[], marks: ReadonlyMap<string, number>, load: DrillLoad | undefined, figures: Record<string, Figure>): void {
  for (const w of watch) {
    if (w.kind === 'client-errors') {
      const from = marks.get(w.from);
      const to = w.to !== undefined ? marks.get(w.to) : load?.stoppedAt;
      if (from === undefined || load === undefined) {
        figures[w.name] = null;
        continue;
      }
      const fs = Math.floor(from / 1000);
      const ts = Math.floor((to ?? Date.now()) / 1000);
      const bs = load.buckets(w.scenario).filter((b) => b.t >= fs && b.t <= ts);
      figures[w.name] = bs.reduce((a, b) => a + b.errors, 0);
      figures[`${w.name}_of`] = bs.reduce((a, b) => a + b.count, 0);
    } else if (w.kind === 'client-status') {
      figures[w.name] = load ? load.statuses.count(w.status, w.scenario) : null;
    }
  }
}

/** Per figure: why it is null (what was not exercised), and what stands behind it (both run ids of a duplicate). */
export type FigureNotes = Record<string, { whyMissing?: string; evidence?: string }>;

export interface AccountingInput {
  target: ChaosTarget;
  runs: RunsEndpoint;
  load: DrillLoad | undefined;
  aborted: boolean;
  timeoutMs: number;
}

/**
 * Every acknowledged webhook looked up on the receiving side: `<name>_lost`, `_duplicated`; then
 * the duplicates classified by which gateway process answered (webhooks/duplicates.ts):
 * `<name>_dup_forgotten_across_restart` and the others, null with the reason when no redelivery
 * tested the class. Not measured (null) when the ledger could not be read.
 */
export async function accountingFigures(name: string, a: AccountingInput, figures: Record<string, Figure>, notes: FigureNotes, ev: (l: string, k?: string) => void): Promise<void> {
  const { load } = a;
  if (load === undefined || a.aborted) {
    for (const k of ['acknowledged', 'lost', 'duplicated']) figures[`${name}_${k}`] = null;
    return;
  }
  const acct = await account(a.runs, load.acks, { timeoutMs: a.timeoutMs });
  const unread = acct.error !== undefined && acct.found === 0;
  figures[`${name}_acknowledged`] = acct.acknowledged;
  figures[`${name}_found`] = unread ? null : acct.found;
  figures[`${name}_lost`] = unread ? null : acct.lost;
  figures[`${name}_duplicated`] = unread ? null : acct.duplicated;
  // How the processed runs ended, where the ledger tells (real gateways without model credentials end in `error`).
  for (const [k, v] of Object.entries(acct.outcomes ?? {})) figures[`${name}_outcome_${k}`] = v;
  ev(`webhooks: ${acct.acknowledged} acknowledged, ${acct.lost} lost, ${acct.duplicated} duplicated${acct.error ? ` (${acct.error})` : ''}`, 'measure');

  const logs = processLogsOf(a.target);
  const dup = classifyDuplicates(keyAnswers(load.acks, processResolver(logs === undefined ? undefined : processStartsInLogs(logs))));
  for (const [k, v] of Object.entries(duplicateFigures(dup))) figures[`${name}_${k}`] = v;
  for (const c of DUPLICATE_CLASSES) {
    const figure = `${name}_${c.figure}`;
    const seen = dup.evidence.filter((e) => e.cls === c.cls);
    notes[figure] = { whyMissing: c.notExercised, ...(seen.length > 0 ? { evidence: seen.slice(0, 5).map(describeEvidence).join('; ') } : {}) };
    const v = figures[figure];
    ev(`webhooks ${c.label}: ${v === null ? 'no data (not exercised)' : `${String(v)} key(s) with a second run, of ${dup.exercised[c.cls]} redelivery(ies) that tested it`}`, 'measure');
  }
  for (const e of dup.evidence) ev(`webhooks duplicate (${e.cls === 'unclassified' ? 'processes unknown' : DUPLICATE_CLASSES.find((c) => c.cls === e.cls)!.label}): ${describeEvidence(e)}`, 'measure');
}
