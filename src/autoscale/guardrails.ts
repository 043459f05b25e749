// ClawStorm's guardrails on top of what the HPA/KEDA decided, each switchable and each reported
// whenever it changed the outcome:
// - degraded: no scale-up while a gateway has reported `degraded: true` for two consecutive
//   polling windows (more replicas of a fleet whose dependency is failing add load, not capacity);
// - disk: the watermark gates of the composite probes (chaos/watermark.ts): yellow blocks scale-up,
//   red scales to the minimum;
// - canary cap: while a canary is active, at most `canaryMaxReplicas`.
// A guardrail whose signal is absent at a sync neither holds nor passes silently: the decision
// lists it as "no data".
import { watermarkPolicy, type GatewayDisk } from '../chaos/watermark.ts';

export interface GuardrailConfig {
  /** Block scale-up on degraded gateways (default on). */
  degraded?: boolean;
  /** Consecutive windows a gateway must report degraded before it blocks (default 2). */
  degradedWindows?: number;
  /** Apply the disk watermark gates (default on). */
  disk?: boolean;
  /** Replica cap while a canary is active; null/absent: no cap. */
  canaryMaxReplicas?: number | null;
}

export interface GuardrailSignals {
  /** Gateways whose probe said `degraded: true` in this polling window (empty: none did). */
  degradedGateways?: readonly string[];
  /** Each gateway's disk, as the composite probes report it. */
  disks?: readonly GatewayDisk[];
  canaryActive?: boolean;
}

export interface GuardrailState {
  /** Consecutive windows each gateway has reported degraded. */
  degradedStreak: Record<string, number>;
}

export function emptyGuardrailState(): GuardrailState {
  return { degradedStreak: {} };
}

export type GuardrailName = 'degraded' | 'disk-yellow' | 'disk-red' | 'canary-cap';

export interface GuardrailHold {
  guardrail: GuardrailName;
  /** What the decision would have been without this guardrail. */
  wanted: number;
  /** What it became. */
  allowed: number;
  detail: string;
}

export interface GuardrailResult {
  desired: number;
  held: GuardrailHold[];
  /** Enabled guardrails whose signal was missing at this sync. */
  noData: string[];
  state: GuardrailState;
}

export function applyGuardrails(
  config: GuardrailConfig,
  previous: GuardrailState,
  signals: GuardrailSignals | undefined,
  decision: { current: number; desired: number; minReplicas: number },
): GuardrailResult {
  const held: GuardrailHold[] = [];
  const noData: string[] = [];
  let desired = decision.desired;
  const { current } = decision;

  // Track the degraded streaks whether or not anything wants to scale up now.
  const degradedStreak: Record<string, number> = {};
  const degradedOn = config.degraded ?? true;
  if (degradedOn && signals?.degradedGateways === undefined) noData.push('degraded');
  for (const gw of [...(signals?.degradedGateways ?? [])].sort()) degradedStreak[gw] = (previous.degradedStreak[gw] ?? 0) + 1;
  const windows = config.degradedWindows ?? 2;
  const degraded = Object.entries(degradedStreak)
    .filter(([, n]) => n >= windows)
    .map(([gw]) => gw);

  const diskOn = config.disk ?? true;
  if (diskOn && (signals?.disks === undefined || signals.disks.length === 0)) noData.push('disk');
  const watermark = diskOn && signals?.disks !== undefined && signals.disks.length > 0 ? watermarkPolicy(signals.disks) : null;

  // Red lowers to the minimum; it never raises (KEDA going to zero or idle stays allowed).
  if (watermark?.scaleToMin === true && desired > decision.minReplicas) {
    held.push({ guardrail: 'disk-red', wanted: desired, allowed: decision.minReplicas, detail: `red disk gate on ${watermark.red.join(', ')}: scale to the minimum` });
    desired = decision.minReplicas;
  }
  if (desired > current && degradedOn && degraded.length > 0) {
    held.push({ guardrail: 'degraded', wanted: desired, allowed: current, detail: `degraded for ${windows}+ windows: ${degraded.join(', ')}` });
  }
  if (desired > current && watermark?.level === 'yellow') {
    held.push({ guardrail: 'disk-yellow', wanted: desired, allowed: current, detail: `yellow disk gate on ${watermark.yellow.join(', ')}: no scale-up` });
  }
  if (held.some((h) => h.guardrail === 'degraded' || h.guardrail === 'disk-yellow')) desired = current;

  const cap = config.canaryMaxReplicas;
  if (cap !== undefined && cap !== null) {
    if (signals?.canaryActive === undefined) noData.push('canary');
    else if (signals.canaryActive && desired > cap) {
      held.push({ guardrail: 'canary-cap', wanted: desired, allowed: cap, detail: `canary active: at most ${cap} replicas` });
      desired = cap;
    }
  }
  return { desired, held, noData, state: { degradedStreak } };
}
