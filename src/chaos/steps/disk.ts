// Reading each gateway's disk from its composite probe, for the disk-watermark steps: the ratio
// used, the gates of its tier (from the probe's own detail, else the 1 TB tier's) and what its
// `disk_ok` says.
import { diskGates } from '../../../contract/probe.ts';
import { readProbe } from '../../probe/fetch.ts';
import { gatewayOf, type ChaosTarget } from '../../target/target.ts';
import type { GatewayDisk } from '../watermark.ts';

/** A probe that reports no gates of its own is judged at the 1 TB tier's, the plan's gateway disk. */
const DEFAULT_CAPACITY_BYTES = 1e12;

export async function readDisk(t: ChaosTarget, g: string): Promise<GatewayDisk> {
  const r = await readProbe(t, g, 3_000);
  if (r.composite === undefined) throw new Error(`${g}: composite probe ${r.problem ?? 'not available'}`);
  const d = r.composite.detail;
  const gates = d?.disk_gates ?? diskGates(DEFAULT_CAPACITY_BYTES);
  return { gateway: g, az: gatewayOf(t, g).az, ratio: d?.disk_used_ratio ?? Number.NaN, yellow: gates.yellow, red: gates.red, diskOk: r.composite.gateway.disk_ok };
}
