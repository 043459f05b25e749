// Disk watermark policy (plan §4), from the composite probes of a fleet:
//   yellow gate — ≥ 82% used on a 1 TB gateway, ≥ 78% on a 2 TB one (`disk_ok` false): block
//                 scale-up, broadcast a digest, stable lane only;
//   red gate    — ≥ 90% on either tier: scale to minimum replicas and drain the canary.
// The gates come from each gateway's own probe (`detail.disk_gates`) when it reports them, else
// from its capacity tier.
import { diskGates } from '../../contract/probe.ts';

export interface GatewayDisk {
  gateway: string;
  az: string;
  ratio: number;
  yellow: number;
  red: number;
  /** What the gateway's composite probe says. */
  diskOk: boolean;
}

export type WatermarkLevel = 'ok' | 'yellow' | 'red';

export interface WatermarkSignals {
  level: WatermarkLevel;
  yellow: string[];
  red: string[];
  blockScaleUp: boolean;
  stableLaneOnly: boolean;
  broadcastDigest: boolean;
  scaleToMin: boolean;
  drainCanary: boolean;
  /** Probes whose disk_ok disagrees with their own ratio and gate (a probe bug worth a line). */
  inconsistent: string[];
  /** Why the level is what it is, one line per gateway past a gate. */
  reasons: string[];
}

/** The gates of a tier: yellow 0.82 (1 TB) or 0.78 (2 TB), red 0.90. */
export function gatesFor(capacityBytes: number): { yellow: number; red: number } {
  return diskGates(capacityBytes);
}

export function watermarkPolicy(disks: readonly GatewayDisk[]): WatermarkSignals {
  // A gateway that says its disk is not ok but not how full it is gives no evidence that it is
  // below the red gate: missing evidence fails closed (red), and the report says so.
  const unmeasured = (d: GatewayDisk) => !d.diskOk && Number.isNaN(d.ratio);
  const yellow = disks.filter((d) => d.ratio >= d.yellow || !d.diskOk).map((d) => d.gateway);
  const red = disks.filter((d) => d.ratio >= d.red || unmeasured(d)).map((d) => d.gateway);
  const inconsistent = disks.filter((d) => !Number.isNaN(d.ratio) && d.diskOk !== d.ratio < d.yellow).map((d) => d.gateway);
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const reasons = disks.flatMap((d) =>
    unmeasured(d)
      ? [`${d.gateway}: disk_ok false without disk_used_ratio — no evidence it is below the red gate, treated as red (fails closed)`]
      : d.ratio >= d.red
        ? [`${d.gateway}: ${pct(d.ratio)} used ≥ red gate ${pct(d.red)}`]
        : d.ratio >= d.yellow || !d.diskOk
          ? [`${d.gateway}: ${Number.isNaN(d.ratio) ? 'disk_ok false' : `${pct(d.ratio)} used ≥ yellow gate ${pct(d.yellow)}`}${d.diskOk ? '' : ' (disk_ok false)'}`]
          : [],
  );
  const level: WatermarkLevel = red.length > 0 ? 'red' : yellow.length > 0 ? 'yellow' : 'ok';
  return {
    level,
    yellow,
    red,
    blockScaleUp: level !== 'ok',
    stableLaneOnly: level !== 'ok',
    broadcastDigest: level !== 'ok',
    scaleToMin: level === 'red',
    drainCanary: level === 'red',
    inconsistent,
    reasons,
  };
}

/** The ratio that puts a gateway exactly at a level of its own tier. */
export function ratioAt(level: 'below-yellow' | 'yellow' | 'red' | number, gates: { yellow: number; red: number }): number {
  if (typeof level === 'number') return level;
  if (level === 'yellow') return gates.yellow;
  if (level === 'red') return gates.red;
  return Math.round((gates.yellow - 0.01) * 1000) / 1000;
}
