// What drills and storms act on: a target profile bound to its tokens, plus — for the local test
// bed — the bed's control API (signals to gateways, HAProxy runtime socket, notifier).
import path from 'node:path';
import { isLoopbackHost } from '../util/ports.ts';
import { assertChaosAllowed, bindTestbed } from '../target/bind.ts';
import { loadTargetProfile, type Gateway, type TargetProfile } from '../config/profile.ts';
import { ProfileError } from '../config/errors.ts';
import { resolveTokens } from '../target/tokens.ts';
import { PromClient } from '../prom/client.ts';
import { latestTestbed } from '../testbed/state.ts';
import { loadTestbed } from '../testbed/control.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import type { RuntimeTarget } from '../lb/runtime.ts';
import type { JournalTarget } from './journal.ts';
import type { RunsEndpoint } from '../storm/accounting.ts';

/** The local test bed's profile (the same file the gate binds; not imported from gate.ts, which imports this). */
const LOCAL_PROFILE = path.resolve(import.meta.dirname, '../../profiles/local.yaml');
/** The profile of a bed of real OpenClaw gateways (`testbed up --gateways openclaw`). */
const OPENCLAW_PROFILE = path.resolve(import.meta.dirname, '../../profiles/openclaw.yaml');

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
  ref: JournalTarget;
}

export class ChaosTargetError extends Error {
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3 = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A target from an already bound profile (the gate's), with the test bed when there is one. */
export function chaosTargetFrom(b: { profile: TargetProfile; tokens: Record<string, string>; testbed?: AnyTestbedEndpoints | undefined }): ChaosTarget {
  const { profile, tokens, testbed } = b;
  const lbUrl = profile.lb;
  if (lbUrl === undefined) throw new ChaosTargetError(`${profile.file}: lb: required`);
  const promUrl = profile.prometheus.url;
  const promToken = profile.prometheus.token !== undefined ? tokens[profile.prometheus.token] : undefined;
  const servers = new Map((testbed?.gateways ?? []).map((g) => [g.id, g.server]));
  return {
    profile,
    tokens,
    lbUrl,
    promUrl,
    prom: promUrl ? new PromClient({ url: promUrl, ...(promToken ? { bearerToken: promToken } : {}) }) : undefined,
    gateways: profile.gateways.map((g) => ({ name: g.name, url: g.url, az: g.az ?? 'unknown', server: servers.get(g.name) ?? g.name, faults: g.faults })),
    haproxy: testbed ? { socket: testbed.haproxy.socket, backend: testbed.haproxy.backend } : undefined,
    testbed,
    notifierUrl: testbed?.kind === 'openclaw' ? undefined : testbed?.notifier?.url,
    ref: testbed ? { kind: 'testbed', stateDir: testbed.stateDir } : { kind: 'profile', file: profile.file },
  };
}

export interface ResolveOptions {
  /** Target profile YAML; none → the local test bed. */
  targetFile?: string;
  /** A running local test bed (state dir or id); default the newest running one. */
  testbedStateDir?: string;
  /** What is about to happen, for the allowChaos refusal. */
  what: string;
  /** Faults will be injected (drills; storms with a fault): the profile must allow chaos. */
  chaos: boolean;
}

/** Load and bind a target; refuses chaos against a profile without `allowChaos: true`. */
export function resolveChaosTarget(opts: ResolveOptions): ChaosTarget {
  let profile: TargetProfile;
  let testbed: AnyTestbedEndpoints | undefined;
  if (opts.targetFile !== undefined) {
    profile = loadTargetProfile(opts.targetFile);
    if (profile.testbed) {
      testbed = findTestbed(opts.testbedStateDir);
      if (testbed === undefined) throw new ChaosTargetError(`${opts.targetFile}: testbed: no running local test bed (start one with 'clawstorm testbed up')`);
      profile = bindTestbed(profile, testbed);
    } else {
      for (const u of [profile.lb, ...profile.gateways.map((g) => g.url)]) {
        if (u !== undefined && !isLoopbackHost(new URL(u).hostname) && process.env.CLAWSTORM_ALLOW_REMOTE !== '1') {
          throw new ChaosTargetError(`${opts.targetFile}: ${u} is not a loopback address; set CLAWSTORM_ALLOW_REMOTE=1 where traffic and faults to it are allowed`);
        }
      }
    }
  } else {
    testbed = findTestbed(opts.testbedStateDir);
    if (testbed === undefined) throw new ChaosTargetError('no running local test bed; start one with `clawstorm testbed up` or pass --target', 3);
    profile = bindTestbed(loadTargetProfile(testbed.kind === 'openclaw' ? OPENCLAW_PROFILE : LOCAL_PROFILE), testbed);
  }
  if (opts.chaos) assertChaosAllowed(profile, opts.what);
  const tokens = resolveTokens(profile);
  return chaosTargetFrom({ profile, tokens, testbed });
}

/** The named bed, or the newest one that is up; undefined when there is none. */
export function findTestbed(stateDir?: string): AnyTestbedEndpoints | undefined {
  if (stateDir !== undefined) return loadTestbed(stateDir).endpoints;
  const latest = latestTestbed();
  if (latest === undefined || latest.state.phase !== 'up' || latest.state.endpoints === undefined) return undefined;
  return latest.state.endpoints;
}

export function gatewayOf(t: ChaosTarget, name: string): ChaosGateway {
  const g = t.gateways.find((x) => x.name === name);
  if (g === undefined) throw new ChaosTargetError(`${t.profile.file}: gateways: no gateway ${JSON.stringify(name)} (has ${t.gateways.map((x) => x.name).join(', ')})`);
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
