// One discipline's storm: every sender's deliveries on one schedule (a herd at once, the rest
// spread), the fault in the middle, redeliveries of acknowledged keys; then the receiving side's
// accounting, the notifier's and Prometheus's view of the same minutes, as one set of figures.
import { Agent } from 'undici';
import { adminCall, applyUndo, faultGateway, undoTargetsGateway } from '../faults/actions.ts';
import { tokenOf } from '../target/target.ts';
import { randomLoopback } from '../util/ids.ts';
import { nearestRank } from '../util/percentile.ts';
import { redact } from '../util/redact.ts';
import { sleep } from '../util/sleep.ts';
import { account, queueDepthOf } from '../webhooks/accounting.ts';
import type { StormRun } from './context.ts';
import { duplicateAttribution } from './duplicates.ts';
import { notifierAccount, notifierStats, unaccounted } from './notifier.ts';
import { faultGatewayOf } from './options.ts';
import { deliver, type Attempt, type Discipline } from './sender.ts';
import { gateway5xx } from './server-errors.ts';

export interface PhaseFigures {
  senders: number;
  deliveries: number;
  accepted: number;
  gave_up: number;
  requests: number;
  retries: number;
  redeliveries: number;
  redeliveries_same_run: number;
  status_429: number;
  status_503: number;
  gateway_5xx_seen: number;
  lb_5xx_seen: number;
  network_errors: number;
  lost: number | null;
  duplicated: number | null;
  /** Keys answered with more than one run, by whether another gateway or the same one answered the second time. */
  duplicated_keys_other_gateway: number | null;
  duplicated_keys_same_gateway: number | null;
  peak_queue_depth: number | null;
  drain_ms: number | null;
  gateway_5xx: number | null;
  ack_p50_ms: number | null;
  ack_p95_ms: number | null;
  duration_ms: number;
  failures_from_gateways: number;
  failures_in_digests: number | null;
  fallback_events: number | null;
  failures_unaccounted: number | null;
  digests: number | null;
}

export async function runPhase(run: StormRun, discipline: Discipline): Promise<PhaseFigures> {
  const { t, opts, ev, signal } = run;
  const faultGw = faultGatewayOf(opts, t);
  const phaseT0 = Date.now();
  ev(`${discipline}: storm starts`, 'phase');
  const before = await notifierStats(t);
  const dispatcher = new Agent({
    connections: opts.senders,
    ...(run.loopback ? { localAddress: randomLoopback() } : {}),
  } as ConstructorParameters<typeof Agent>[0]);
  const attempts: Attempt[] = [];
  const acks: Array<{ key: string; runId: string; server?: string }> = [];
  const ackMs: number[] = [];
  let deliveries = 0;
  let gaveUp = 0;
  let redeliveries = 0;
  let sameRun = 0;
  // Queue depth while the storm runs.
  let peak: number | null = null;
  let sampling = true;
  const sampler = (async () => {
    for (let i = 0; i < 1_000_000 && sampling; i++) {
      const d = await queueDepthOf(run.runsEp, 800);
      if (d !== null) peak = Math.max(peak ?? 0, d);
      await sleep(100);
    }
  })();
  // The fault, in the middle of the storm.
  const faultAt = opts.faultAtMs ?? Math.round(opts.spreadMs / 2);
  const faultJob = opts.fault === 'none' || faultGw === undefined ? Promise.resolve() : (async () => {
    await sleep(faultAt, signal);
    if (signal?.aborted) return;
    try {
      const mode = opts.fault === 'crash' ? 'crash' : 'drain';
      ev(`${discipline}: ${opts.fault} ${faultGw}`, 'fault');
      await faultGateway(t, run.journal, `${discipline}-${opts.fault}`, faultGw, mode);
      if (opts.fault === 'crash') await sleep(opts.downMs, signal);
      for (const e of run.journal.pending().filter((x) => undoTargetsGateway(x.undo, faultGw))) {
        const what = await applyUndo(t, e.undo);
        run.journal.mark(e.id, 'rolled-back');
        ev(`${discipline}: ${what}`, 'recover');
      }
      // A restarted gateway starts with default admission: the storm's settings again.
      if (run.tuneAdmission && opts.admission !== null) await adminCall(t.gateways.find((g) => g.name === faultGw)!.url, tokenOf(t, 'admin'), 'PUT', '/admin/hooks', opts.admission);
    } catch (err) {
      run.errors.push(`${discipline} fault: ${redact((err as Error).message)}`);
      ev(`${discipline}: fault failed: ${redact((err as Error).message)}`, 'error');
    }
  })();

  const target = { url: t.lbUrl, hook: 'agent' as const, token: run.hookToken, dispatcher, timeoutMs: opts.requestTimeoutMs };
  // Every delivery of every sender on one schedule: a share at once (the herd), the rest spread
  // evenly; each one in flight on its own, as a provider's event queue delivers them.
  const total = opts.senders * opts.deliveries;
  const herdN = Math.round(total * opts.herd);
  const firstRun = new Map<string, string>();
  const one = async (key: string, due: number, redelivery: boolean): Promise<void> => {
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, signal);
    if (signal?.aborted) return;
    if (!redelivery) deliveries += 1;
    else redeliveries += 1;
    const o = await deliver(target, key, { message: `storm delivery ${key}`, name: 'clawstorm-storm', deliver: false }, discipline, { capped: opts.capped, unbounded: opts.unbounded }, signal);
    attempts.push(...o.attempts);
    if (o.acked && o.runId !== undefined) {
      acks.push({ key, runId: o.runId, ...(o.server !== undefined ? { server: o.server } : {}) });
      if (!redelivery) {
        if (o.ackMs !== undefined) ackMs.push(o.ackMs);
        firstRun.set(key, o.runId);
        // At-least-once: providers deliver some acknowledged events again, with the same key.
        if (Math.random() < opts.redeliver) await one(key, Date.now() + 200 + Math.floor(Math.random() * 1_000), true);
      } else if (firstRun.get(key) === o.runId) sameRun += 1;
    } else if (!redelivery) gaveUp += 1;
  };
  const jobs: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const s = i % opts.senders;
    const k = Math.floor(i / opts.senders);
    const due = phaseT0 + (i < herdN ? 0 : Math.round(((i - herdN) / Math.max(1, total - herdN)) * opts.spreadMs));
    jobs.push(one(`${run.runId}.${discipline}.${s}.${k}`, due, false));
  }
  try {
    await Promise.all(jobs);
  } finally {
    await faultJob;
    await dispatcher.close().catch(() => {});
  }
  const sendersDone = Date.now();
  ev(`${discipline}: senders done in ${((sendersDone - phaseT0) / 1000).toFixed(1)} s; ${acks.length} acknowledgements from ${attempts.length} requests`, 'phase');

  const acct = signal?.aborted ? undefined : await account(run.runsEp, acks, { timeoutMs: opts.drainTimeoutMs, ...(signal ? { signal } : {}) });
  sampling = false;
  await sampler;
  if (acct) ev(`${discipline}: ${acct.acknowledged} accepted, ${acct.lost} lost, ${acct.duplicated} duplicated; drained ${acct.drainMs === null ? 'not in time' : `in ${acct.drainMs} ms`}${acct.error ? ` (${acct.error})` : ''}`, 'measure');

  // Failures senders saw from gateways, against the notifier's digests + fallback counter.
  const failures = attempts.filter((a) => a.fromGateway && (a.status === 429 || a.status >= 500));
  const n = await notifierAccount(t, before, failures.map((a) => a.correlationId), ev);
  const phaseMs = Date.now() - phaseT0;
  const gw5xx = await gateway5xx(t, phaseMs);
  const read = acct !== undefined && !(acct.error !== undefined && acct.found === 0);
  return {
    senders: opts.senders,
    deliveries,
    accepted: new Set(acks.map((a) => a.key)).size,
    gave_up: gaveUp,
    requests: attempts.length,
    retries: attempts.filter((a) => !a.correlationId.endsWith('#0')).length,
    redeliveries,
    redeliveries_same_run: sameRun,
    status_429: attempts.filter((a) => a.status === 429).length,
    status_503: attempts.filter((a) => a.status === 503).length,
    gateway_5xx_seen: attempts.filter((a) => a.fromGateway && a.status >= 500).length,
    lb_5xx_seen: attempts.filter((a) => !a.fromGateway && a.status >= 500).length,
    network_errors: attempts.filter((a) => a.status === 0).length,
    lost: read ? acct.lost : null,
    duplicated: read ? acct.duplicated : null,
    ...duplicateAttribution(acks),
    peak_queue_depth: peak,
    drain_ms: acct?.drainMs ?? null,
    gateway_5xx: gw5xx,
    ack_p50_ms: nearestRank(ackMs, 50),
    ack_p95_ms: nearestRank(ackMs, 95),
    duration_ms: sendersDone - phaseT0,
    failures_from_gateways: failures.length,
    failures_in_digests: n?.matched ?? null,
    fallback_events: n?.fallback ?? null,
    failures_unaccounted: unaccounted(failures.length, n),
    digests: n?.digests ?? null,
  };
}
