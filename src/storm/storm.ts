// `clawstorm storm webhooks`: a webhook retry storm (SPEC §4). N senders deliver keyed events
// through the load balancer, first all at once (the herd), then spread over the storm; the two
// retry disciplines run the same storm one after the other — the same fault at the same moment —
// so their figures sit side by side in one table. Options: a gateway restart or crash in the
// middle of each storm, and at-least-once redelivery of a share of acknowledged deliveries.
//
// Accounting: every delivery that got a 2xx (key → runId) is looked up on the receiving side
// once the queue drained → accepted, duplicated (one key, more than one run; one run processed
// twice), lost (must be 0); plus retries sent, 429/503 seen, peak queue depth, time to drain,
// gateway 5xx, and whether the digests plus the notifier's fallback counter account for every
// failure a sender saw from a gateway.
//
// Bad-token mode: senders with a wrong hook token, each from its own loopback address, until the
// gateway throttles them (429 after 20 failures in 60 s per client address).
import crypto from 'node:crypto';
import { Agent } from 'undici';
import { z } from 'zod';
import type { TargetProfile } from '../config/profile.ts';
import { parseDuration } from '../util/duration.ts';
import type { ThresholdResult } from '../score/types.ts';
import { redact } from '../util/redact.ts';
import { timeline } from '../util/timeline.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { adminCall, faultGateway, hooksAdmission, notifierConfig, applyUndo, undoTargetsGateway, type AdmissionPatch } from '../faults/actions.ts';
import { Journal } from '../faults/journal.ts';
import { rollback, type RollbackOutcome } from '../faults/rollback.ts';
import type { DrillResult } from '../chaos/engine.ts';
import { newRunId, randomLoopback } from '../util/ids.ts';
import { sleep } from '../util/sleep.ts';
import { judgeCriterion } from '../score/criteria.ts';
import { statusOf } from '../score/status.ts';
import { ChaosTargetError, runsEndpointOf, tokenOf, type ChaosTarget } from '../target/target.ts';
import { account, queueDepthOf, type RunsEndpoint } from '../webhooks/accounting.ts';
import type { StormSecond } from '../report/results.ts';
import { stormSeconds } from './series.ts';
import { attempt, DEFAULT_CAPPED, DEFAULT_UNBOUNDED, deliver, type Attempt, type CappedPolicy, type Discipline, type UnboundedPolicy } from './sender.ts';

export type StormFault = 'restart' | 'crash' | 'none';

export interface StormOptions {
  senders: number;
  /** Deliveries per sender. */
  deliveries: number;
  disciplines: Discipline[];
  fault: StormFault;
  /** Gateway the fault hits; default the first. */
  faultGateway?: string;
  /** ms into each storm; default half the spread. */
  faultAtMs?: number;
  /** Crash: how long the gateway stays dead before it is started again. */
  downMs: number;
  /** Share (0–1) of acknowledged deliveries sent again with the same key, as providers do. */
  redeliver: number;
  /** Share (0–1) of all deliveries sent at the very start, at once (the herd). */
  herd: number;
  /** The rest spread evenly over this long. */
  spreadMs: number;
  badToken: boolean;
  /** Senders of the bad-token storm (each from its own loopback address). */
  badTokenSenders: number;
  badTokenMaxAttempts: number;
  /**
   * Where bad-token senders send: through the load balancer (`lb`), or straight to the gateways,
   * sender i to gateway i mod n (`gateways`). A gateway throttles per client address; behind a
   * proxy that sends no X-Forwarded-For every client has the proxy's address.
   */
  badTokenVia: 'lb' | 'gateways';
  capped: CappedPolicy;
  unbounded: UnboundedPolicy;
  /** Webhook admission of the gateways for the storm (the local test bed's /admin/hooks); null: leave as is. */
  admission: AdmissionPatch | null;
  /** Digest window of the notifier for the storm; null: leave as is. */
  digestWindowMs: number | null;
  /** Point the notifier's digest sink at nothing for the storm: the fallback counter must take over. */
  digestSinkDown: boolean;
  requestTimeoutMs: number;
  drainTimeoutMs: number;
  profile: string;
}

export function defaultStormOptions(profile: string): StormOptions {
  const full = profile === 'full';
  return {
    senders: 200,
    deliveries: full ? 25 : 5,
    disciplines: ['capped', 'unbounded'],
    fault: 'restart',
    downMs: 1_000,
    redeliver: 0.1,
    herd: 0.5,
    spreadMs: full ? 60_000 : 6_000,
    badToken: false,
    badTokenSenders: 20,
    badTokenMaxAttempts: 25,
    badTokenVia: 'lb',
    capped: { ...DEFAULT_CAPPED },
    unbounded: { ...DEFAULT_UNBOUNDED },
    // A stand-in agent run of 100 ms and a queue bound of 25 pending jobs per fleet: a herd of
    // deliveries outruns the workers and meets admission control, as a real gateway's would.
    admission: { queueLimit: 25, workMs: 100, retryAfterS: 1 },
    digestWindowMs: full ? 300_000 : 5_000,
    digestSinkDown: false,
    requestTimeoutMs: 10_000,
    drainTimeoutMs: 60_000,
    profile,
  };
}

/** A target profile's storm size (`storm:` — what that target can carry) over `opts`. */
export function withStormSize(opts: StormOptions, size: TargetProfile['storm']): StormOptions {
  const o = { ...opts };
  if (size?.senders !== undefined) o.senders = size.senders;
  if (size?.deliveries !== undefined) o.deliveries = size.deliveries;
  if (size?.spread !== undefined) o.spreadMs = parseDuration(size.spread);
  return o;
}

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

export interface StormOutcome {
  results: DrillResult[];
  phases: Partial<Record<Discipline, PhaseFigures>>;
  badToken?: Record<string, number | null>;
  aborted: boolean;
  rollback: RollbackOutcome;
  journal: string;
}

const StatsSchema = z.object({
  lastDigestId: z.number(),
  received: z.number(),
  fallback: z.object({ events: z.number() }),
});
const DigestsSchema = z.object({
  digests: z.array(z.object({ id: z.number(), published: z.boolean(), statuses: z.array(z.object({ status: z.union([z.number(), z.string()]), count: z.number(), correlationIds: z.array(z.string()) })) })),
});

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export async function runStorm(t: ChaosTarget, opts: StormOptions, ctl: { signal?: AbortSignal; log?: (l: string) => void; journalFile?: string } = {}): Promise<StormOutcome> {
  const log = ctl.log ?? (() => {});
  const signal = ctl.signal;
  const runId = newRunId('storm');
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const { events, ev } = timeline('storm', t0, log);
  for (const [k, v] of [['senders', opts.senders], ['deliveries', opts.deliveries], ['badTokenSenders', opts.badTokenSenders]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 10_000) throw new RangeError(`storm: ${k} must be an integer 1–10000 (got ${v})`);
  }
  if (!(opts.redeliver >= 0 && opts.redeliver <= 1)) throw new RangeError(`storm: redeliver must be 0–1 (got ${opts.redeliver})`);

  if (opts.fault !== 'none') {
    const g = opts.faultGateway ?? t.gateways[0]?.name;
    if (g === undefined || !t.gateways.some((x) => x.name === g)) throw new ChaosTargetError(`${t.profile.file}: gateways: no gateway ${JSON.stringify(g ?? '')} for the storm's ${opts.fault} fault (has ${t.gateways.map((x) => x.name).join(', ') || 'none'})`);
  }
  const journal = Journal.create({ ...(ctl.journalFile ? { file: ctl.journalFile } : {}), id: runId, drill: 'storm-webhooks', target: t.ref });
  ev(`webhook storm against ${t.profile.name}: ${opts.senders} senders × ${opts.deliveries} deliveries, ${opts.disciplines.join(' then ')}, fault ${opts.fault}, redeliver ${opts.redeliver}; journal ${journal.file}`, 'phase');
  const runsEp: RunsEndpoint = runsEndpointOf(t);
  const hookToken = tokenOf(t, 'hook');
  const loopback = isLoopbackHost(new URL(t.lbUrl).hostname);
  const faultGw = opts.faultGateway ?? t.gateways[0]?.name;
  const phases: Partial<Record<Discipline, PhaseFigures>> = {};
  // Answers per second of each discipline, for the report's chart (src/storm/series.ts).
  const perSecond: Partial<Record<Discipline, StormSecond[]>> = {};
  let badToken: Record<string, number | null> | undefined;
  let rb: RollbackOutcome = { journal: journal.file, drill: 'storm-webhooks', undone: [], failed: [], skipped: [], ok: true };
  let aborted = false;
  const errors: string[] = [];

  // Admission settings exist on the reference gateways of the local test bed, and are changed only
  // where the profile allows chaos.
  const tuneAdmission = opts.admission !== null && t.testbed !== undefined && t.testbed.kind !== 'openclaw' && t.profile.allowChaos;
  const applyAdmission = async (step: string, gateways: string[]) => {
    if (!tuneAdmission || opts.admission === null) return;
    for (const g of gateways) await hooksAdmission(t, journal, step, g, opts.admission);
  };

  try {
    if (tuneAdmission) {
      await applyAdmission('admission', t.gateways.map((g) => g.name));
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
      phases[discipline] = await runPhase(discipline);
    }
    if (opts.badToken && !signal?.aborted) badToken = await runBadToken();
  } catch (err) {
    errors.push(redact((err as Error).message));
    ev(`error: ${redact((err as Error).message)}`, 'error');
  } finally {
    aborted = signal?.aborted === true;
    ev(`rollbacks: ${journal.pending().length} change(s) to undo`, 'phase');
    rb = await rollback(journal, t, (l) => log(`storm: ${l}`)).catch((err: Error) => ({ ...rb, ok: false, failed: [err.message] }));
    ev(rb.ok ? 'rollbacks done' : `rollbacks incomplete: run 'clawstorm drill rollback --journal ${journal.file}'`, 'phase');
  }

  // ── one storm of one discipline ──
  async function runPhase(discipline: Discipline): Promise<PhaseFigures> {
    const phaseT0 = Date.now();
    ev(`${discipline}: storm starts`, 'phase');
    const before = await notifierStats();
    const dispatcher = new Agent({
      connections: opts.senders,
      ...(loopback ? { localAddress: randomLoopback() } : {}),
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
        const d = await queueDepthOf(runsEp, 800);
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
        await faultGateway(t, journal, `${discipline}-${opts.fault}`, faultGw, mode);
        if (opts.fault === 'crash') await sleep(opts.downMs, signal);
        for (const e of journal.pending().filter((x) => undoTargetsGateway(x.undo, faultGw))) {
          const what = await applyUndo(t, e.undo);
          journal.mark(e.id, 'rolled-back');
          ev(`${discipline}: ${what}`, 'recover');
        }
        // A restarted gateway starts with default admission: the storm's settings again.
        if (tuneAdmission && opts.admission !== null) await adminCall(t.gateways.find((g) => g.name === faultGw)!.url, tokenOf(t, 'admin'), 'PUT', '/admin/hooks', opts.admission);
      } catch (err) {
        errors.push(`${discipline} fault: ${redact((err as Error).message)}`);
        ev(`${discipline}: fault failed: ${redact((err as Error).message)}`, 'error');
      }
    })();

    const target = { url: t.lbUrl, hook: 'agent' as const, token: hookToken, dispatcher, timeoutMs: opts.requestTimeoutMs };
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
      jobs.push(one(`${runId}.${discipline}.${s}.${k}`, due, false));
    }
    try {
      await Promise.all(jobs);
    } finally {
      await faultJob;
      await dispatcher.close().catch(() => {});
    }
    const sendersDone = Date.now();
    ev(`${discipline}: senders done in ${((sendersDone - phaseT0) / 1000).toFixed(1)} s; ${acks.length} acknowledgements from ${attempts.length} requests`, 'phase');

    const acct = signal?.aborted ? undefined : await account(runsEp, acks, { timeoutMs: opts.drainTimeoutMs, ...(signal ? { signal } : {}) });
    sampling = false;
    await sampler;
    if (acct) ev(`${discipline}: ${acct.acknowledged} accepted, ${acct.lost} lost, ${acct.duplicated} duplicated; drained ${acct.drainMs === null ? 'not in time' : `in ${acct.drainMs} ms`}${acct.error ? ` (${acct.error})` : ''}`, 'measure');

    perSecond[discipline] = stormSeconds(attempts, acct && !(acct.error !== undefined && acct.found === 0) ? acct.lostRunIds : null);

    // Failures senders saw from gateways, against the notifier's digests + fallback counter.
    const failures = attempts.filter((a) => a.fromGateway && (a.status === 429 || a.status >= 500));
    const n = await notifierAccount(before, failures.map((a) => a.correlationId));
    const phaseMs = Date.now() - phaseT0;
    const gw5xx = await gateway5xx(phaseMs);
    const fig: PhaseFigures = {
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
      lost: acct && !(acct.error !== undefined && acct.found === 0) ? acct.lost : null,
      duplicated: acct && !(acct.error !== undefined && acct.found === 0) ? acct.duplicated : null,
      ...duplicateAttribution(acks),
      peak_queue_depth: peak,
      drain_ms: acct?.drainMs ?? null,
      gateway_5xx: gw5xx,
      ack_p50_ms: percentile(ackMs, 50),
      ack_p95_ms: percentile(ackMs, 95),
      duration_ms: sendersDone - phaseT0,
      failures_from_gateways: failures.length,
      failures_in_digests: n?.matched ?? null,
      fallback_events: n?.fallback ?? null,
      failures_unaccounted: n === undefined ? null : Math.max(0, failures.length - n.matched - n.fallback),
      digests: n?.digests ?? null,
    };
    return fig;
  }

  async function notifierStats(): Promise<z.infer<typeof StatsSchema> | undefined> {
    if (t.notifierUrl === undefined) return undefined;
    try {
      return StatsSchema.parse(await adminCall(t.notifierUrl, tokenOf(t, 'admin'), 'GET', '/stats'));
    } catch {
      return undefined;
    }
  }

  async function notifierAccount(before: z.infer<typeof StatsSchema> | undefined, ids: string[]): Promise<{ matched: number; fallback: number; digests: number } | undefined> {
    const url = t.notifierUrl;
    if (url === undefined || before === undefined) return undefined;
    try {
      // Fire-and-forget events from the gateways land within moments; then close the window.
      await sleep(500);
      await adminCall(url, tokenOf(t, 'admin'), 'POST', '/flush');
      const after = StatsSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', '/stats'));
      const d = DigestsSchema.parse(await adminCall(url, tokenOf(t, 'admin'), 'GET', `/digests?after=${before.lastDigestId}&limit=10000`));
      const published = new Set<string>();
      for (const dg of d.digests) if (dg.published) for (const st of dg.statuses) for (const c of st.correlationIds) published.add(c);
      const matched = ids.filter((id) => published.has(id)).length;
      return { matched, fallback: after.fallback.events - before.fallback.events, digests: d.digests.length };
    } catch (err) {
      ev(`notifier accounting failed: ${redact((err as Error).message)}`, 'error');
      return undefined;
    }
  }

  async function gateway5xx(windowMs: number): Promise<number | null> {
    if (t.prom === undefined) return null;
    // Two scrape intervals for the last samples to land.
    await sleep(2_500);
    const s = Math.max(5, Math.ceil(windowMs / 1000) + 3);
    try {
      const r = await t.prom.instant(
        `sum(increase(openclaw_http_request_duration_seconds_count{job="gateway",route=~"/hooks/.*",status_class="5xx"}[${s}s])) or on() (0 * sum(up{job="gateway"}))`,
      );
      const vs = r.type === 'vector' ? r.series.map((x) => x.v) : [];
      return vs.length === 0 ? null : Math.round(vs.reduce((a, b) => a + b, 0));
    } catch {
      return null;
    }
  }

  // ── bad-token senders ──
  async function runBadToken(): Promise<Record<string, number | null>> {
    const phaseT0 = Date.now();
    const viaGateways = opts.badTokenVia === 'gateways' && t.gateways.length > 0;
    const urlOf = (i: number): string => (viaGateways ? t.gateways[i % t.gateways.length]!.url : t.lbUrl);
    ev(`bad token: ${opts.badTokenSenders} senders with a wrong hook token, each from its own loopback address, ${viaGateways ? `straight to the ${t.gateways.length} gateway(s)` : 'through the load balancer'}`, 'phase');
    const before = await notifierStats();
    const addrs = new Set<string>();
    for (let i = 0; i < opts.badTokenSenders * 20 && addrs.size < opts.badTokenSenders; i++) addrs.add(randomLoopback());
    const bad = `bad-${crypto.randomBytes(16).toString('hex')}`;
    const firstAt: number[] = [];
    const firstMs: number[] = [];
    const failures: string[] = [];
    let requests = 0;
    let s401 = 0;
    let s429 = 0;
    let retryAfter: number | null = null;
    await Promise.all(
      [...addrs].map(async (addr, s) => {
        const dispatcher = new Agent((loopback ? { localAddress: addr } : {}) as ConstructorParameters<typeof Agent>[0]);
        try {
          for (let n = 0; n < opts.badTokenMaxAttempts; n++) {
            if (signal?.aborted) return;
            const a = await attempt({ url: urlOf(s), hook: 'agent', token: bad, dispatcher, timeoutMs: opts.requestTimeoutMs }, `${runId}.bad.${s}`, n, { message: 'bad token', deliver: false });
            requests += 1;
            if (a.status === 401) s401 += 1;
            if (a.fromGateway && (a.status === 429 || a.status >= 500)) failures.push(a.correlationId);
            if (a.status === 429) {
              s429 += 1;
              firstAt.push(n + 1);
              firstMs.push(Date.now() - phaseT0);
              retryAfter = a.retryAfterMs ?? retryAfter;
              return;
            }
          }
        } finally {
          await dispatcher.close().catch(() => {});
        }
      }),
    );
    // A client that did nothing wrong, from yet another address, is not throttled.
    const control = new Agent((loopback ? { localAddress: randomLoopback() } : {}) as ConstructorParameters<typeof Agent>[0]);
    let controlOk = 0;
    try {
      const c = await attempt({ url: urlOf(0), hook: 'agent', token: hookToken, dispatcher: control, timeoutMs: opts.requestTimeoutMs }, `${runId}.control`, 0, { message: 'control', deliver: false });
      controlOk = c.status === 200 ? 1 : 0;
    } finally {
      await control.close().catch(() => {});
    }
    const n = await notifierAccount(before, failures);
    const figs = {
      senders: addrs.size,
      requests,
      status_401: s401,
      status_429: s429,
      throttled_senders: firstAt.length,
      first_429_attempt_min: firstAt.length ? Math.min(...firstAt) : null,
      first_429_attempt_max: firstAt.length ? Math.max(...firstAt) : null,
      first_429_after_ms_p50: percentile(firstMs, 50),
      first_429_after_ms_max: firstMs.length ? Math.max(...firstMs) : null,
      retry_after_s: retryAfter === null ? null : retryAfter / 1000,
      control_client_ok: controlOk,
      failures_from_gateways: failures.length,
      failures_in_digests: n?.matched ?? null,
      fallback_events: n?.fallback ?? null,
      failures_unaccounted: n === undefined ? null : Math.max(0, failures.length - n.matched - n.fallback),
    };
    ev(`bad token: ${figs.throttled_senders}/${figs.senders} senders throttled, first 429 at attempt ${figs.first_429_attempt_min ?? '--'}–${figs.first_429_attempt_max ?? '--'} after ${figs.first_429_after_ms_p50 ?? '--'} ms (p50); control client ${controlOk ? 'not throttled' : 'THROTTLED'}`, 'measure');
    return figs;
  }

  // ── results ──
  const results: DrillResult[] = [];
  if (Object.keys(phases).length > 0 || opts.disciplines.length > 0) {
    const figures: Record<string, number | string | boolean | null> = {
      opt_senders: opts.senders,
      opt_deliveries: opts.deliveries,
      opt_fault: opts.fault,
      opt_redeliver: opts.redeliver,
      ...(opts.digestSinkDown ? { opt_digest_sink_down: true } : {}),
    };
    const thresholds: ThresholdResult[] = [];
    for (const d of opts.disciplines) {
      const p = phases[d];
      if (p === undefined) continue;
      for (const [k, v] of Object.entries(p)) figures[`${d}.${k}`] = v;
      const th = (name: string, figure: keyof PhaseFigures, op: '==' | '<=', value: number) => {
        thresholds.push(judgeCriterion({ name: `${d}: ${name}`, figure: `${d}.${figure}`, op, value }, p[figure]));
      };
      th('no acknowledged delivery lost', 'lost', '==', 0);
      th('no delivery duplicated (one key, one run, processed once)', 'duplicated', '==', 0);
      // Failure digests exist where a notifier receives the gateways' failure events (the reference
      // fleet); real gateways send none, so there is nothing to hold them to.
      if (t.notifierUrl !== undefined) {
        th('digests + fallback counter account for every failure', 'failures_unaccounted', '==', 0);
        const windows = opts.digestWindowMs === null ? null : Math.ceil(p.duration_ms / opts.digestWindowMs) + 2;
        if (windows !== null) th(`at most one digest per window (${windows} windows)`, 'digests', '<=', windows);
      }
    }
    if (errors.length > 0) thresholds.push({ name: 'storm ran', source: 'client', expr: 'no error', observed: null, verdict: 'fail', detail: errors.join('; ') });
    if (!rb.ok) thresholds.push({ name: 'rollbacks complete', source: 'client', expr: 'every change undone', observed: rb.failed.length, verdict: 'fail', detail: rb.failed.join('; ') });
    figures.duration_s = Math.round((Date.now() - t0) / 100) / 10;
    const status = statusOf(thresholds, aborted);
    results.push({ name: 'webhook-storm', title: 'Webhook retry storm', status, startedAt, events, figures, thresholds, disciplines: perSecond });
  }
  if (badToken !== undefined) {
    const figures: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(badToken)) figures[`bad_token.${k}`] = v;
    const b = badToken;
    const thresholds: ThresholdResult[] = [
      cmp('every bad-token sender throttled (429)', 'bad_token.throttled_senders', b.throttled_senders ?? null, '==', b.senders ?? 0),
      cmp('no sender throttled before its 21st failure (20 failures / 60 s)', 'bad_token.first_429_attempt_min', b.first_429_attempt_min ?? null, '>=', 21),
      cmp('a well-behaved client is not throttled', 'bad_token.control_client_ok', b.control_client_ok ?? null, '==', 1),
      ...(t.notifierUrl !== undefined ? [cmp('digests + fallback counter account for every 429', 'bad_token.failures_unaccounted', b.failures_unaccounted ?? null, '==', 0)] : []),
    ];
    results.push({ name: 'webhook-storm-bad-token', title: 'Webhook storm: bad-token senders', status: statusOf(thresholds, aborted), startedAt, events: [], figures, thresholds });
  }
  return { results, phases, ...(badToken ? { badToken } : {}), aborted, rollback: rb, journal: journal.file };
}

/**
 * Where keys answered with two runs were answered: by another gateway (replay state is per
 * replica) or by the same one (it lost its replay state, e.g. restarted). Null when the load
 * balancer does not say which gateway answered.
 */
export function duplicateAttribution(acks: ReadonlyArray<{ key: string; runId: string; server?: string }>): Pick<PhaseFigures, 'duplicated_keys_other_gateway' | 'duplicated_keys_same_gateway'> {
  if (acks.length === 0 || acks.some((a) => a.server === undefined)) return { duplicated_keys_other_gateway: null, duplicated_keys_same_gateway: null };
  const byKey = new Map<string, Map<string, string>>();
  for (const a of acks) {
    const runs = byKey.get(a.key) ?? new Map<string, string>();
    runs.set(a.runId, a.server!);
    byKey.set(a.key, runs);
  }
  let other = 0;
  let same = 0;
  for (const runs of byKey.values()) {
    if (runs.size < 2) continue;
    if (new Set(runs.values()).size > 1) other += 1;
    else same += 1;
  }
  return { duplicated_keys_other_gateway: other, duplicated_keys_same_gateway: same };
}

function cmp(name: string, figure: string, v: number | null, op: '==' | '>=', value: number): ThresholdResult {
  return judgeCriterion({ name, figure, op, value }, v);
}
