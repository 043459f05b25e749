// Binding a target profile to what it points at: a running local test bed fills in URLs and
// token files; a profile of a real fleet is checked against where traffic may go. Gate, drills,
// storms and canaries all bind through here.
import type { TokenRef, TargetProfile } from '../config/profile.ts';
import { ProfileError } from '../config/errors.ts';
import type { AnyTestbedEndpoints } from '../testbed/types.ts';

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

/** Refuse chaos against a profile that does not allow it (SPEC §9). */
export function assertChaosAllowed(p: TargetProfile, what: string): void {
  if (!p.allowChaos) {
    throw new ProfileError(p.file, [`${p.file}: allowChaos: ${what} refused — target ${p.name} does not set allowChaos: true`]);
  }
}
