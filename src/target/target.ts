// What drills, storms and canaries act on: a bound target with its clients — Prometheus, the
// gateways, and for a local test bed its control API (signals to gateways, HAProxy runtime
// socket, notifier).
import { ProfileError } from '../config/errors.ts';
import type { Gateway, TargetProfile } from '../config/profile.ts';
import type { RuntimeTarget } from '../lb/runtime.ts';
import type { PromClient } from '../prom/client.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import type { RunsEndpoint } from '../webhooks/accounting.ts';
import { bindTarget, promClientOf, TargetError, type BindOptions, type BoundTarget } from './bind.ts';
import type { TargetRef } from './ref.ts';
import { withTarget, type TargetChoice } from './with-target.ts';

export interface ChaosGateway {
  name: string;
  url: string;
  az: string;
  /** Its server name in the load balancer (HAProxy). */
  server: string;
  faults: Gateway['faults'];
}

export interface ChaosTarget {
  profile: TargetProfile;
  /** Resolved token values by name (registered with redact). */
  tokens: Record<string, string>;
  lbUrl: string;
  prom: PromClient | undefined;
  promUrl: string | undefined;
  gateways: ChaosGateway[];
  /** HAProxy runtime API, when the target has one we may use (the local test bed). */
  haproxy: RuntimeTarget | undefined;
  /** The local test bed behind this target, when it is one. */
  testbed: AnyTestbedEndpoints | undefined;
  notifierUrl: string | undefined;
  /** What a journal records so a later `drill rollback` finds the same target. */
  ref: TargetRef;
}

/** Kept as the name drills and storms throw; one class with the binding errors. */
export { TargetError as ChaosTargetError };

/** A target from an already bound profile (the gate's), with the test bed when there is one. */
export function chaosTargetFrom(b: BoundTarget): ChaosTarget {
  const { profile, tokens, testbed } = b;
  const lbUrl = profile.lb;
  if (lbUrl === undefined) throw new TargetError(`${profile.file}: lb: required`);
  const promUrl = profile.prometheus.url;
  const servers = new Map((testbed?.gateways ?? []).map((g) => [g.id, g.server]));
  return {
    profile,
    tokens,
    lbUrl,
    promUrl,
    prom: promClientOf(b),
    gateways: profile.gateways.map((g) => ({ name: g.name, url: g.url, az: g.az ?? 'unknown', server: servers.get(g.name) ?? g.name, faults: g.faults })),
    haproxy: testbed ? { socket: testbed.haproxy.socket, backend: testbed.haproxy.backend } : undefined,
    testbed,
    notifierUrl: testbed?.kind === 'openclaw' ? undefined : testbed?.notifier?.url,
    ref: testbed ? { kind: 'testbed', stateDir: testbed.stateDir } : { kind: 'profile', file: profile.file },
  };
}

/** Bind a target (see bind.ts) and give it the clients drills, storms and canaries act through. */
export function resolveChaosTarget(opts: BindOptions): ChaosTarget {
  return chaosTargetFrom(bindTarget(opts));
}

/** withTarget for drills, storms and canaries: the newest running bed, or one started for the run. */
export function withChaosTarget<T>(choice: Omit<TargetChoice, 'bed'>, fn: (t: ChaosTarget) => Promise<T>): Promise<T> {
  return withTarget({ ...choice, bed: 'reuse-or-start' }, (b) => fn(chaosTargetFrom(b)));
}

export function gatewayOf(t: ChaosTarget, name: string): ChaosGateway {
  const g = t.gateways.find((x) => x.name === name);
  if (g === undefined) throw new TargetError(`${t.profile.file}: gateways: no gateway ${JSON.stringify(name)} (has ${t.gateways.map((x) => x.name).join(', ')})`);
  return g;
}

export function tokenOf(t: ChaosTarget, name: string): string {
  const v = t.tokens[name];
  if (v === undefined) throw new ProfileError(t.profile.file, [`${t.profile.file}: tokens.${name}: required by this drill`]);
  return v;
}

/**
 * Where processed webhook runs are looked up: a bed of real OpenClaw gateways keeps them in each
 * gateway's own log; the reference fleet (and a profile target) answers /admin/runs/lookup.
 */
export function runsEndpointOf(t: ChaosTarget): RunsEndpoint {
  if (t.testbed?.kind === 'openclaw') return { logFiles: t.testbed.gateways.flatMap((g) => (g.appLogFile === undefined ? [] : [g.appLogFile])) };
  return { urls: [t.lbUrl, ...t.gateways.map((g) => g.url)], adminToken: t.tokens.admin ?? '' };
}

/**
 * Each gateway's own log, where it records its process starts (a bed of real OpenClaw gateways);
 * undefined where the gateways name their answering process themselves or cannot be read.
 */
export function processLogsOf(t: ChaosTarget): Map<string, string> | undefined {
  if (t.testbed?.kind !== 'openclaw') return undefined;
  return new Map(t.testbed.gateways.flatMap((g) => (g.appLogFile === undefined ? [] : [[g.id, g.appLogFile] as [string, string]])));
}
