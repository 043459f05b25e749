// Binding a target: a profile file, or a running local test bed, turned into a profile with real
// URLs and resolved tokens. Gate, drills, storms and canaries all bind through `bindTarget`, so
// the same rules hold everywhere:
//   - a testbed profile (`testbed: true`) takes URLs and token files from the running bed, and
//     must match the bed's kind (reference fleet or real OpenClaw gateways);
//   - a profile of a real fleet may point only at loopback addresses unless
//     CLAWSTORM_ALLOW_REMOTE=1 says this machine may load it (plan §9);
//   - chaos (faults, weights) needs `allowChaos: true` in the profile.
import path from 'node:path';
import { ProfileError } from '../config/errors.ts';
import { loadTargetProfile, type TargetProfile, type TokenRef } from '../config/profile.ts';
import { loadTestbed } from '../testbed/control.ts';
import { latestTestbed } from '../testbed/state.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';
import { PromClient } from '../prom/client.ts';
import { parseDuration } from '../util/duration.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { resolveTokens } from './tokens.ts';

/** The profile of the reference fleet's local test bed. */
export const LOCAL_PROFILE = path.resolve(import.meta.dirname, '../../profiles/local.yaml');
/** The profile of a bed of real OpenClaw gateways (`testbed up --gateways openclaw`). */
export const OPENCLAW_PROFILE = path.resolve(import.meta.dirname, '../../profiles/openclaw.yaml');

/** A target that cannot be bound: 2 for the user's input, 3 when what it needs is not running. */
export class TargetError extends Error {
  readonly exitCode: 2 | 3;
  constructor(message: string, exitCode: 2 | 3 = 2) {
    super(message);
    this.name = 'TargetError';
    this.exitCode = exitCode;
  }
}

export interface BoundTarget {
  profile: TargetProfile;
  /** Resolved token values by name (registered with the redactor). */
  tokens: Record<string, string>;
  /** The local test bed behind the profile, when it is one. */
  testbed?: AnyTestbedEndpoints | undefined;
}

export interface BindOptions {
  /** Target profile YAML; none → a running local test bed. */
  targetFile?: string | undefined;
  /** A running local test bed (state dir or id); default the newest one that is up. */
  testbedStateDir?: string | undefined;
  /** What is about to happen, for refusals (`drill gateway-pair`). */
  what: string;
  /** Faults or weights will change the target: the profile must allow chaos. */
  chaos: boolean;
}

/** A testbed profile with URLs and token files taken from the running test bed. */
export function bindTestbed(p: TargetProfile, e: AnyTestbedEndpoints): TargetProfile {
  if (!p.testbed) throw new ProfileError(p.file, [`${p.file}: testbed: profile ${p.name} is not a testbed profile`]);
  const kind = e.kind ?? 'reference';
  if (kind !== p.testbedKind) {
    throw new ProfileError(p.file, [`${p.file}: testbedKind: profile ${p.name} is for a ${p.testbedKind} bed, but test bed ${e.id} runs ${kind === 'openclaw' ? 'real OpenClaw gateways' : 'the reference fleet'}${kind === 'openclaw' ? ' (use --target profiles/openclaw.yaml)' : ''}`]);
  }
  const tokens: Record<string, TokenRef> = { ...p.tokens };
  for (const [name, file] of Object.entries(e.tokenFiles)) tokens[name] ??= { file };
  return {
    ...p,
    gateways: e.gateways.map((g) =>
      kind === 'openclaw' ? { name: g.id, url: g.url, az: g.az, probePath: '/readyz', probeKind: 'readyz' as const } : { name: g.id, url: g.url, az: g.az, probeKind: 'composite' as const },
    ),
    lb: e.lb.url,
    prometheus: { ...p.prometheus, url: e.prometheus.url },
    tokens,
  };
}

/** The bundled profile of a bed's kind, bound to it. */
export function profileForBed(bed: AnyTestbedEndpoints): TargetProfile {
  return bindTestbed(loadTargetProfile(bed.kind === 'openclaw' ? OPENCLAW_PROFILE : LOCAL_PROFILE), bed);
}

/** The named bed, or the newest one that is up; undefined when there is none. */
export function findTestbed(stateDir?: string): AnyTestbedEndpoints | undefined {
  if (stateDir !== undefined) return loadTestbed(stateDir).endpoints;
  const latest = latestTestbed();
  if (latest === undefined || latest.state.phase !== 'up' || latest.state.endpoints === undefined) return undefined;
  return latest.state.endpoints;
}

/** Refuse chaos against a profile that does not allow it (plan §9). */
export function assertChaosAllowed(p: TargetProfile, what: string): void {
  if (!p.allowChaos) {
    throw new ProfileError(p.file, [`${p.file}: allowChaos: ${what} refused — target ${p.name} does not set allowChaos: true`]);
  }
}

/** Traffic and faults from this machine go to loopback only, unless CLAWSTORM_ALLOW_REMOTE=1. */
export function assertLoopbackOrAllowed(p: TargetProfile, env: NodeJS.ProcessEnv = process.env): void {
  if (env.CLAWSTORM_ALLOW_REMOTE === '1') return;
  for (const u of [p.lb, ...p.gateways.map((g) => g.url)]) {
    if (u !== undefined && !isLoopbackHost(new URL(u).hostname)) {
      throw new TargetError(`${p.file}: ${u} is not a loopback address; set CLAWSTORM_ALLOW_REMOTE=1 where traffic and faults to it are allowed`, 2);
    }
  }
}

export function bindTarget(opts: BindOptions): BoundTarget {
  let profile: TargetProfile;
  let testbed: AnyTestbedEndpoints | undefined;
  if (opts.targetFile !== undefined) {
    profile = loadTargetProfile(opts.targetFile);
    if (profile.testbed) {
      testbed = findTestbed(opts.testbedStateDir);
      if (testbed === undefined) {
        throw new TargetError(`${opts.targetFile}: testbed: no running test bed (start one with 'clawstorm testbed up${profile.testbedKind === 'openclaw' ? ' --gateways openclaw' : ''}')`, 3);
      }
      profile = bindTestbed(profile, testbed);
    } else {
      assertLoopbackOrAllowed(profile);
    }
  } else {
    testbed = findTestbed(opts.testbedStateDir);
    if (testbed === undefined) throw new TargetError('no running local test bed; start one with `clawstorm testbed up` or pass --target', 3);
    profile = profileForBed(testbed);
  }
  if (opts.chaos) assertChaosAllowed(profile, opts.what);
  return { profile, tokens: resolveTokens(profile), testbed };
}

/** The target's Prometheus client: URL, timeout and credentials (bearer, Basic, headers) from the profile. */
export function promClientOf(b: BoundTarget): PromClient | undefined {
  const p = b.profile.prometheus;
  if (p.url === undefined) return undefined;
  const token = (name: string | undefined) => (name === undefined ? undefined : b.tokens[name]);
  const bearer = token(p.token);
  const basicPassword = token(p.basicAuth?.password);
  const headers = Object.fromEntries(Object.entries(p.headers ?? {}).flatMap(([h, name]) => (b.tokens[name] === undefined ? [] : [[h, b.tokens[name]!]])));
  return new PromClient({
    url: p.url,
    timeoutMs: parseDuration(p.timeout),
    ...(bearer !== undefined ? { bearerToken: bearer } : {}),
    ...(p.basicAuth !== undefined && basicPassword !== undefined ? { basicAuth: { username: p.basicAuth.username, password: basicPassword } } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  });
}
