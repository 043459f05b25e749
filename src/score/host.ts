// A busy host is not a slow fleet. On a local test bed the load generator and the fleet share
// one machine; when that machine was saturated during a scenario, the latencies measured there
// (by the client, and by the gateways' own histograms) say how busy the machine was as much as
// how fast the fleet is. ClawStorm's rule:
//   - host CPU ≥ 90 % of all cores, or ≥ 10 % stolen by a hypervisor, over a scenario on a local
//     bed → that scenario's failed latency verdicts are inconclusive, saying why. A busy machine
//     only makes latencies worse, never better: a latency that passed there would pass on a quiet
//     one too, so passes stand (a 2-core bed running the whole fleet is often near saturation,
//     and its passes are real);
//   - verdicts on counts (errors, lost or dropped writes) stand: a lost write is lost on any host;
//   - on a quiet host, a measured failure stays a failure; a remote target's server-side
//     latencies are not affected by this machine and are never touched.
import type { MonitorVerdict } from '../load/monitor.ts';
import type { ThresholdResult } from './types.ts';

export const HOST_SATURATED_CPU_PCT = 90;
export const HOST_SATURATED_STEAL_PCT = 10;

export interface HostLoad {
  cpuPct: number | null;
  stealPct: number | null;
  /** The generator's share of the host's busy CPU, %. */
  generatorSharePct: number | null;
}

export function hostLoadOf(m: Pick<MonitorVerdict, 'hostCpuPct' | 'hostStealPct' | 'generatorHostSharePct'>): HostLoad {
  return { cpuPct: m.hostCpuPct, stealPct: m.hostStealPct, generatorSharePct: m.generatorHostSharePct };
}

/** Why the host counts as saturated, or undefined when it does not (or cannot be told). */
export function hostSaturation(h: HostLoad): string | undefined {
  const busy = h.cpuPct !== null && h.cpuPct >= HOST_SATURATED_CPU_PCT;
  const stolen = h.stealPct !== null && h.stealPct >= HOST_SATURATED_STEAL_PCT;
  if (!busy && !stolen) return undefined;
  const parts = [`CPU ${h.cpuPct ?? '?'}%`, `steal ${h.stealPct ?? '?'}%`, h.generatorSharePct === null ? '' : `the generator ${h.generatorSharePct}% of it`].filter(Boolean);
  return `host saturated (${parts.join(', ')}): this machine was busy, not necessarily the fleet slow`;
}

/** A latency threshold: judged on a time, in ms (client) or s/ms (PromQL). */
export function isLatency(t: Pick<ThresholdResult, 'unit'>): boolean {
  return t.unit === 'ms' || t.unit === 's';
}

export function applyHostSaturation<T extends Pick<ThresholdResult, 'verdict' | 'unit' | 'detail'>>(thresholds: readonly T[], why: string | undefined): T[] {
  if (why === undefined) return [...thresholds];
  return thresholds.map((t) => (isLatency(t) && t.verdict === 'fail' ? { ...t, verdict: 'inconclusive' as const, detail: `${why} (measured fail): ${t.detail}` } : t));
}
