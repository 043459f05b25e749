// One discipline's storm: every sender's deliveries on one schedule (a herd at once, the rest
// spread), the fault in the middle, redeliveries of acknowledged keys on their schedules and
// aims — the after-heal ones once the faulted gateway is back in rotation — then the receiving
// side's accounting, the duplicate classes, the notifier's and Prometheus's view of the same
// minutes, as one set of figures.
import { Agent } from 'undici';
import { adminCall, applyUndo, faultGateway, undoTargetsGateway } from '../faults/actions.ts';
import { waitInRotation } from '../target/rotation.ts';
import { processLogsOf, tokenOf } from '../target/target.ts';
import { randomLoopback } from '../util/ids.ts';
import { nearestRank } from '../util/percentile.ts';
import { forEachBounded } from '../util/pool.ts';
import { sample } from '../util/sample.ts';
import { redact } from '../util/redact.ts';
import { sleep } from '../util/sleep.ts';
import { account, queueDepthOf } from '../webhooks/accounting.ts';
import { acknowledgedBefore, keyAnswers, type Acked } from '../webhooks/acks.ts';
import { classifyDuplicates, describeEvidence, duplicateFigures, DUPLICATE_CLASSES, type DuplicateEvidence } from '../webhooks/duplicates.ts';
import { processResolver, processStartsInLogs } from '../webhooks/processes.ts';
import { aimTargets, gatewayOfServer, otherReplicaPicker, redeliverAimed, type Aim } from '../webhooks/aims.ts';
import type { StormRun } from './context.ts';
import { notifierAccount, notifierStats, unaccounted } from './notifier.ts';
import { faultGatewayOf } from './options.ts';
import { drawDelay, type Delay, type RedeliverySchedule } from './schedule.ts';
import { deliver, type Attempt, type Discipline } from '../webhooks/sender.ts';
import { gateway5xx } from './server-errors.ts';
import type { StormSecond } from '../report/results.ts';
import { stormSeconds } from './series.ts';

export interface PhaseFigures {
  senders: number;
  deliveries: number;
  accepted: number;
  gave_up: number;
  requests: number;
  retries: number;
  /** Redelivery requests sent (each aim of each redelivered key is one). */
  redeliveries: number;
  /** …acknowledged (a redelivery aimed at a gateway that is down gets no answer). */
  redeliveries_answered: number;
  /** …answered with the run the key's first delivery got. */
  redeliveries_same_run: number;
  redeliveries_not_aimed: number;
  status_429: number;
  status_503: number;
  gateway_5xx_seen: number;
  lb_5xx_seen: number;
  network_errors: number;
  lost: number | null;
  duplicated: number | null;
  /** ms from the end of the fault until the faulted gateway was back in rotation for the after-heal redeliveries. */
  after_heal_back_ms: number | null;
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
  /**
   * Per schedule `redelivered_keys_<name>`; per aim `redeliveries_<aim>` and `…_same_run`; per
   * duplicate class its keys and the redeliveries that tested it (webhooks/duplicates.ts).
   */
  [figure: string]: number | null;
}

export interface PhaseOutcome {
  figures: PhaseFigures;
  /** Both runs of every duplicate classified (a bounded number per class). */
  evidence: DuplicateEvidence[];
  /** Answers per second, for the report's chart (series.ts). */
  seconds: StormSecond[];
}

const AIM_FIGURE: Record<Aim, string> = { acknowledger: 'redeliveries_to_acknowledger', 'other-replica': 'redeliveries_to_other_replica', lb: 'redeliveries_via_lb' };

/** `redelivered_keys_after_heal` for schedule `after-heal`. */
export function scheduleFigure(name: string): string {
  return `redelivered_keys_${name.replaceAll('-', '_')}`;
}

export async function runPhase(run: StormRun, discipline: Discipline): Promise<PhaseOutcome> {
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
  const answers: Acked[] = [];
  const ackMs: number[] = [];
  let deliveries = 0;
  let gaveUp = 0;
  const sent: Record<Aim, number> = { acknowledger: 0, 'other-replica': 0, lb: 0 };
  const sameRun: Record<Aim, number> = { acknowledger: 0, 'other-replica': 0, lb: 0 };
  let notAimed = 0;
  let answered = 0;
  const keysBySchedule = new Map<string, number>(opts.redeliveries.map((s) => [s.name, 0]));
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
  // The fault, in the middle of the storm; when it began and whether the gateway was put back.
  const faultAt = opts.faultAtMs ?? Math.round(opts.spreadMs / 2);
  let faultStartedAt: number | undefined;
  let faultEndedAt: number | undefined;
  const faultJob = opts.fault === 'none' || faultGw === undefined ? Promise.resolve() : (async () => {
    await sleep(faultAt, signal);
    if (signal?.aborted) return;
    try {
      const mode = opts.fault === 'crash' ? 'crash' : 'drain';
      ev(`${discipline}: ${opts.fault} ${faultGw}`, 'fault');
      faultStartedAt = Date.now();
      await faultGateway(t, run.journal, `${discipline}-${opts.fault}`, faultGw, mode);
      if (opts.fault === 'crash') await sleep(opts.downMs, signal);
      for (const e of run.journal.pending().filter((x) => undoTargetsGateway(x.undo, faultGw))) {
        const what = await applyUndo(t, e.undo);
        run.journal.mark(e.id, 'rolled-back');
        ev(`${discipline}: ${what}`, 'recover');
      }
      // A restarted gateway starts with default admission: the storm's settings again.
      if (run.tuneAdmission && opts.admission !== null) await adminCall(t.gateways.find((g) => g.name === faultGw)!.url, tokenOf(t, 'admin'), 'PUT', '/admin/hooks', opts.admission);
      faultEndedAt = Date.now();
    } catch (err) {
      run.errors.push(`${discipline} fault: ${redact((err as Error).message)}`);
      ev(`${discipline}: fault failed: ${redact((err as Error).message)}`, 'error');
    }
  })();

  const base = { hook: 'agent' as const, token: run.hookToken, dispatcher, timeoutMs: opts.requestTimeoutMs };
  const policy = { capped: opts.capped, unbounded: opts.unbounded };
  const body = (key: string) => ({ message: `storm delivery ${key}`, name: 'clawstorm-storm', deliver: false });
  const firstRun = new Map<string, string>();
  const pickOther = otherReplicaPicker(t.gateways);

  /** One redelivery of `key`, sent each way the options aim it. */
  const redeliver = async (key: string, acknowledger: string | undefined, schedule: string): Promise<void> => {
    if (signal?.aborted) return;
    keysBySchedule.set(schedule, (keysBySchedule.get(schedule) ?? 0) + 1);
    const { targets, notAimed: missed } = aimTargets(opts.aims, acknowledger, t.lbUrl, t.gateways, pickOther);
    notAimed += missed.length;
    for (const r of await redeliverAimed(base, key, body(key), schedule, targets, t.gateways, discipline, policy, signal)) {
      attempts.push(...r.attempts);
      sent[r.aim] += 1;
      if (r.ack === undefined) continue;
      answered += 1;
      answers.push(r.ack);
      if (firstRun.get(key) === r.ack.runId) sameRun[r.aim] += 1;
    }
  };

  // Every delivery of every sender on one schedule: a share at once (the herd), the rest spread
  // evenly; each one in flight on its own, as a provider's event queue delivers them.
  const delayed = opts.redeliveries.filter((s): s is RedeliverySchedule & { after: Delay } => s.after !== 'heal' && s.share > 0);
  const total = opts.senders * opts.deliveries;
  const herdN = Math.round(total * opts.herd);
  const one = async (key: string, due: number): Promise<void> => {
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, signal);
    if (signal?.aborted) return;
    deliveries += 1;
    const o = await deliver({ ...base, url: t.lbUrl }, key, body(key), discipline, policy, signal);
    attempts.push(...o.attempts);
    if (!o.acked || o.runId === undefined || o.ack === undefined) {
      gaveUp += 1;
      return;
    }
    const gateway = gatewayOfServer(t.gateways, o.ack.server);
    answers.push({ key, runId: o.runId, ...(gateway !== undefined ? { gateway } : {}), ...(o.ack.instance !== undefined ? { instance: o.ack.instance } : {}), sentAt: o.ack.sentAt, at: o.ack.at });
    if (o.ackMs !== undefined) ackMs.push(o.ackMs);
    firstRun.set(key, o.runId);
    // At-least-once: providers deliver some acknowledged events again, with the same key.
    await Promise.all(
      delayed.filter((s) => Math.random() < s.share).map(async (s) => {
        if (await sleep(drawDelay(s.after), signal)) await redeliver(key, gateway, s.name);
      }),
    );
  };
  const jobs: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const s = i % opts.senders;
    const k = Math.floor(i / opts.senders);
    const due = phaseT0 + (i < herdN ? 0 : Math.round(((i - herdN) / Math.max(1, total - herdN)) * opts.spreadMs));
    jobs.push(one(`${run.runId}.${discipline}.${s}.${k}`, due));
  }
  let afterHealBackMs: number | null = null;
  try {
    await Promise.all(jobs);
    await faultJob;
    afterHealBackMs = await afterHeal();
  } finally {
    await faultJob;
    await dispatcher.close().catch(() => {});
  }

  /**
   * Once the faulted gateway is back in rotation (a bounded wait), each `heal` schedule sends a
   * share of the keys that gateway acknowledged before the fault again. Where the load balancer
   * does not say who acknowledged what, the share is taken of every key acknowledged before it.
   */
  async function afterHeal(): Promise<number | null> {
    const heal = opts.redeliveries.filter((s) => s.after === 'heal' && s.share > 0);
    if (heal.length === 0 || faultGw === undefined || signal?.aborted) return null;
    if (faultStartedAt === undefined || faultEndedAt === undefined) {
      if (opts.fault !== 'none') ev(`${discipline}: after-heal redeliveries not sent: the fault did not run to its end`, 'phase');
      return null;
    }
    const back = await waitInRotation(t, faultGw, opts.healTimeoutMs, signal);
    if (back === null) {
      if (!signal?.aborted) {
        run.errors.push(`${discipline}: ${faultGw} not back in rotation within ${opts.healTimeoutMs / 1000} s after its ${opts.fault}: after-heal redeliveries not sent`);
        ev(`${discipline}: ${faultGw} not back in rotation within ${opts.healTimeoutMs / 1000} s: after-heal redeliveries not sent`, 'error');
      }
      return null;
    }
    const pool = acknowledgedBefore(answers, faultGw, faultStartedAt);
    for (const s of heal) {
      const picked = sample(pool, Math.round(s.share * pool.length));
      ev(`${discipline}: ${faultGw} back in rotation ${back} ms after its ${opts.fault}; ${s.name}: ${picked.length} of the ${pool.length} keys it acknowledged before the fault sent again (${opts.aims.join(', ')})`, 'phase');
      await forEachBounded(picked, opts.senders, (a) => redeliver(a.key, a.gateway, s.name));
    }
    return back;
  }

  const sendersDone = Date.now();
  const acks = answers.map((a) => ({ key: a.key, runId: a.runId }));
  ev(`${discipline}: senders done in ${((sendersDone - phaseT0) / 1000).toFixed(1)} s; ${answers.length} acknowledgements from ${attempts.length} requests`, 'phase');

  const acct = signal?.aborted ? undefined : await account(run.runsEp, acks, { timeoutMs: opts.drainTimeoutMs, ...(signal ? { signal } : {}) });
  sampling = false;
  await sampler;
  if (acct) ev(`${discipline}: ${acct.acknowledged} accepted, ${acct.lost} lost, ${acct.duplicated} duplicated; drained ${acct.drainMs === null ? 'not in time' : `in ${acct.drainMs} ms`}${acct.error ? ` (${acct.error})` : ''}`, 'measure');

  // Which process answered each acknowledgement, then what each duplicate says.
  const logs = processLogsOf(t);
  const dup = classifyDuplicates(keyAnswers(answers, processResolver(logs === undefined ? undefined : processStartsInLogs(logs))));
  const dupFigures = duplicateFigures(dup);
  for (const c of DUPLICATE_CLASSES) {
    const n = dupFigures[c.figure];
    ev(`${discipline}: ${c.label}: ${n === null ? `no data (${c.notExercised})` : `${n} key(s) with a second run, of ${dup.exercised[c.cls]} redelivery(ies) that tested it`}`, 'measure');
  }
  for (const e of dup.evidence) ev(`${discipline}: duplicate (${e.cls === 'unclassified' ? 'processes unknown' : DUPLICATE_CLASSES.find((c) => c.cls === e.cls)!.label}): ${describeEvidence(e)}`, 'measure');

  // Failures senders saw from gateways, against the notifier's digests + fallback counter.
  const failures = attempts.filter((a) => a.fromGateway && (a.status === 429 || a.status >= 500));
  const n = await notifierAccount(t, before, failures.map((a) => a.correlationId), ev);
  const phaseMs = Date.now() - phaseT0;
  const gw5xx = await gateway5xx(t, phaseMs);
  const read = acct !== undefined && !(acct.error !== undefined && acct.found === 0);
  const aimFigures: Record<string, number> = {};
  for (const aim of Object.keys(AIM_FIGURE) as Aim[]) {
    aimFigures[AIM_FIGURE[aim]] = sent[aim];
    aimFigures[`${AIM_FIGURE[aim]}_same_run`] = sameRun[aim];
  }
  const figures: PhaseFigures = {
    senders: opts.senders,
    deliveries,
    accepted: firstRun.size,
    gave_up: gaveUp,
    requests: attempts.length,
    retries: attempts.filter((a) => !a.correlationId.endsWith('#0')).length,
    redeliveries: sent.acknowledger + sent['other-replica'] + sent.lb,
    redeliveries_answered: answered,
    redeliveries_same_run: sameRun.acknowledger + sameRun['other-replica'] + sameRun.lb,
    redeliveries_not_aimed: notAimed,
    ...Object.fromEntries([...keysBySchedule].map(([s, k]) => [scheduleFigure(s), k])),
    ...aimFigures,
    status_429: attempts.filter((a) => a.status === 429).length,
    status_503: attempts.filter((a) => a.status === 503).length,
    gateway_5xx_seen: attempts.filter((a) => a.fromGateway && a.status >= 500).length,
    lb_5xx_seen: attempts.filter((a) => !a.fromGateway && a.status >= 500).length,
    network_errors: attempts.filter((a) => a.status === 0).length,
    lost: read ? acct.lost : null,
    duplicated: read ? acct.duplicated : null,
    ...dupFigures,
    after_heal_back_ms: afterHealBackMs,
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
  return { figures, evidence: dup.evidence, seconds: stormSeconds(attempts, read ? acct.lostRunIds : null) };
}
