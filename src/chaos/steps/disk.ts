// Reading each gateway's disk from its composite probe, for the disk-watermark steps: the ratio
// used, the gates of its tier (from the probe's own detail, else its capacity tier) and what its
// `disk_ok` says.
import { diskGates, validateProbe } from '../../../contract/probe.ts';
import { gatewayOf, tokenOf, type ChaosTarget } from '../../target/target.ts';
import type { GatewayDisk } from '../watermark.ts';

/** A probe that reports no gates of its own is judged at the 1 TB tier's, the plan's gateway disk. */
const DEFAULT_CAPACITY_BYTES = 1e12;

export async function readDisk(t: ChaosTarget, g: string): Promise<GatewayDisk> {
  const gw = gatewayOf(t, g);
  const path = t.profile.gateways.find((x) => x.name === g)?.probePath ?? '/keda/metrics';
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${tokenOf(t, 'probe')}` }, signal: AbortSignal.timeout(3_000) });
  const v = validateProbe(await res.json());
  if (!v.ok) throw new Error(`${g}: composite probe off contract: ${v.errors.join('; ')}`);
  const d = v.value.detail;
  const gates = d?.disk_gates ?? diskGates(DEFAULT_CAPACITY_BYTES);
  return { gateway: g, az: gw.az, ratio: d?.disk_used_ratio ?? Number.NaN, yellow: gates.yellow, red: gates.red, diskOk: v.value.gateway.disk_ok };
}
