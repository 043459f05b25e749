// What a webhook storm is asked to do: its size, disciplines, fault, redelivery schedules and
// aims, the gates on each class of duplicate, and the notifier/admission settings it runs under;
// the defaults per run profile, a target profile's storm settings over them, and the checks made
// before anything is sent.
import type { StormProfile } from '../config/profile.ts';
import { parseDuration } from '../util/duration.ts';
import type { AdmissionPatch } from '../faults/actions.ts';
import { ChaosTargetError, type ChaosTarget } from '../target/target.ts';
import type { DuplicateClass } from '../webhooks/duplicates.ts';
import { AIMS, type Aim } from '../webhooks/aims.ts';
import { AFTER_HEAL, checkSchedules, SOON, type Delay, type RedeliverySchedule } from './schedule.ts';
import { DEFAULT_CAPPED, DEFAULT_UNBOUNDED, type CappedPolicy, type Discipline, type UnboundedPolicy } from '../webhooks/sender.ts';

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
  /** When acknowledged deliveries are sent again with the same key, as providers do (schedule.ts). */
  redeliveries: RedeliverySchedule[];
  /** Where each redelivery is sent (aims.ts); each aim is one request, counted on its own. */
  aims: Aim[];
  /** The after-heal phase waits this long for the faulted gateway back in rotation. */
  healTimeoutMs: number;
  /** Most keys allowed per duplicate class; null: not gated. */
  duplicateGates: Record<DuplicateClass, number | null>;
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
    redeliveries: [{ ...SOON }, { ...AFTER_HEAL }],
    aims: [...AIMS],
    healTimeoutMs: 60_000,
    duplicateGates: { restart: 0, replicas: 0, process: 0 },
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

/** A target profile's storm settings (`storm:` — what that target can carry, how it is judged) over `opts`. */
export function withStormSize(opts: StormOptions, p: StormProfile | undefined): StormOptions {
  const o = { ...opts };
  if (p === undefined) return o;
  if (p.senders !== undefined) o.senders = p.senders;
  if (p.deliveries !== undefined) o.deliveries = p.deliveries;
  if (p.spread !== undefined) o.spreadMs = parseDuration(p.spread);
  if (p.redeliveries !== undefined) o.redeliveries = p.redeliveries.map((r) => ({ name: r.name, share: r.share, after: r.after === 'heal' ? 'heal' : delayOf(r.after) }));
  if (p.aims !== undefined) o.aims = [...p.aims];
  if (p.healTimeout !== undefined) o.healTimeoutMs = parseDuration(p.healTimeout);
  if (p.duplicates !== undefined) {
    const gate = (v: number | 'off' | undefined, was: number | null) => (v === undefined ? was : v === 'off' ? null : v);
    o.duplicateGates = {
      restart: gate(p.duplicates.forgottenAcrossRestart, o.duplicateGates.restart),
      replicas: gate(p.duplicates.notSharedAcrossReplicas, o.duplicateGates.replicas),
      process: gate(p.duplicates.withinProcess, o.duplicateGates.process),
    };
  }
  return o;
}

function delayOf(d: Exclude<NonNullable<StormProfile['redeliveries']>[number]['after'], 'heal'>): Delay {
  if ('fixed' in d) return { kind: 'fixed', ms: parseDuration(d.fixed) };
  if ('uniform' in d) return { kind: 'uniform', minMs: parseDuration(d.uniform.min), maxMs: parseDuration(d.uniform.max) };
  return { kind: 'exponential', meanMs: parseDuration(d.exponential.mean), maxMs: parseDuration(d.exponential.max) };
}

/** Set one schedule's share (`--redeliver`, `--after-heal`); a schedule not there yet is added with its defaults. */
export function withShare(opts: StormOptions, base: RedeliverySchedule, share: number): StormOptions {
  const has = opts.redeliveries.some((r) => r.name === base.name);
  return { ...opts, redeliveries: has ? opts.redeliveries.map((r) => (r.name === base.name ? { ...r, share } : r)) : [...opts.redeliveries, { ...base, share }] };
}

/** Refuse options that cannot run (RangeError: a usage error) or a fault on a gateway the target lacks. */
export function validateStormOptions(opts: StormOptions, t: ChaosTarget): void {
  for (const [k, v] of [['senders', opts.senders], ['deliveries', opts.deliveries], ['badTokenSenders', opts.badTokenSenders]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 10_000) throw new RangeError(`storm: ${k} must be an integer 1–10000 (got ${v})`);
  }
  const problems = checkSchedules(opts.redeliveries);
  if (problems.length > 0) throw new RangeError(`storm: ${problems.join('; ')}`);
  if (opts.aims.length === 0 || opts.aims.some((a) => !AIMS.includes(a))) throw new RangeError(`storm: aims must be some of ${AIMS.join(', ')} (got ${opts.aims.join(', ') || 'none'})`);
  if (!(opts.healTimeoutMs > 0 && opts.healTimeoutMs <= 600_000)) throw new RangeError(`storm: heal timeout must be 0–10 min (got ${opts.healTimeoutMs} ms)`);
  if (opts.fault !== 'none') {
    const g = faultGatewayOf(opts, t);
    if (g === undefined || !t.gateways.some((x) => x.name === g)) throw new ChaosTargetError(`${t.profile.file}: gateways: no gateway ${JSON.stringify(g ?? '')} for the storm's ${opts.fault} fault (has ${t.gateways.map((x) => x.name).join(', ') || 'none'})`);
  }
}

/** The gateway the storm's fault hits: the one named, else the target's first. */
export function faultGatewayOf(opts: Pick<StormOptions, 'faultGateway'>, t: ChaosTarget): string | undefined {
  return opts.faultGateway ?? t.gateways[0]?.name;
}
