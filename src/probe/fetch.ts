// One read of a gateway's probe, timed: the composite probe of plan §5 (bearer, validated
// against the versioned contract), or a real OpenClaw gateway's `/readyz` (ready ⇔ not degraded,
// and nothing else). Drill hypotheses, the disk-watermark steps and the probe sampler all read
// probes through here.
import { ReadyzBody } from '../../contract/openclaw.ts';
import { validateProbe, type ProbeResponse } from '../../contract/probe.ts';
import { gatewayOf, tokenOf, type ChaosTarget } from '../target/target.ts';

export const PROBE_TIMEOUT_MS = 1_500;

export interface ProbeRead {
  gateway: string;
  kind: 'composite' | 'readyz';
  path: string;
  /** Round-trip time, ms; null when nothing answered. */
  ms: number | null;
  /** HTTP status; null when nothing answered. */
  status: number | null;
  /** The answer is on contract (composite) or a readyz body. */
  valid: boolean;
  /** Degraded per the probe (composite `degraded`, readyz not ready); null when it could not say. */
  degraded: boolean | null;
  composite?: ProbeResponse;
  ready?: boolean;
  /** Why the read is not valid, or what failed. */
  problem?: string;
}

/** What a gateway's probe is, from its profile entry. */
export function probeOf(t: ChaosTarget, gateway: string): { kind: 'composite' | 'readyz'; path: string } {
  const spec = t.profile.gateways.find((x) => x.name === gateway);
  return spec?.probeKind === 'readyz' ? { kind: 'readyz', path: spec.probePath ?? '/readyz' } : { kind: 'composite', path: spec?.probePath ?? '/keda/metrics' };
}

export async function readProbe(t: ChaosTarget, gateway: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeRead> {
  const g = gatewayOf(t, gateway);
  const { kind, path } = probeOf(t, gateway);
  const base = { gateway, kind, path };
  let headers: Record<string, string> = {};
  try {
    if (kind === 'composite') headers = { authorization: `Bearer ${tokenOf(t, 'probe')}` };
  } catch (err) {
    return { ...base, ms: null, status: null, valid: false, degraded: null, problem: (err as Error).message };
  }
  const t0 = performance.now();
  let status: number;
  let body: unknown;
  try {
    const res = await fetch(`${g.url}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    body = await res.json().catch(() => undefined);
  } catch (err) {
    return { ...base, ms: null, status: null, valid: false, degraded: null, problem: `did not answer: ${(err as Error).message}` };
  }
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  if (kind === 'readyz') {
    const r = ReadyzBody.safeParse(body);
    if (!r.success) return { ...base, ms, status, valid: false, degraded: null, problem: `${path} answered HTTP ${status} off contract` };
    return { ...base, ms, status, valid: true, degraded: !(status === 200 && r.data.ready), ready: r.data.ready, ...(r.data.failing?.length ? { problem: `failing ${r.data.failing.join(', ')}` } : {}) };
  }
  const v = validateProbe(body);
  if (!v.ok) return { ...base, ms, status, valid: false, degraded: null, problem: `off contract: ${v.errors.slice(0, 2).join('; ')} (HTTP ${status})` };
  return { ...base, ms, status, valid: true, degraded: v.value.degraded, composite: v.value };
}
