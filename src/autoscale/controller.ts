// The autoscaler ClawStorm drives: an HPA, or a KEDA ScaledObject with the HPA it creates, plus
// ClawStorm's guardrails, fed one sync at a time. It is the same object whether the syncs come from
// a replay of a load run's Prometheus series or from a live loop that starts and stops gateway
// processes, and it is deterministic in its inputs: time is part of each sync (seconds, any epoch;
// only differences matter), nothing reads a clock, and every decision is plain JSON. The same input
// sequence therefore gives a byte-identical decision log, replayed or live.
//
// Each loop runs when it is due at the sync's time: the HPA every syncPeriodSeconds (15 s), KEDA's
// poll every pollingInterval. A sync at which nothing is due is answered with "no sync due".
// When KEDA itself changes the replica count (activation, deactivation), the HPA waits for its next
// sync, as it would in a cluster where the two loops are independent.
import { applyGuardrails, emptyGuardrailState, type GuardrailConfig, type GuardrailHold, type GuardrailSignals, type GuardrailState } from './guardrails.ts';
import { CONTROLLER_DEFAULTS } from './hpa/defaults.ts';
import type { MetricOutcome } from './hpa/metrics.ts';
import { emptyNormalizationState, recordRescale, type NormalizationState } from './hpa/normalize.ts';
import { hpaSync, type HpaSyncResult } from './hpa/sync.ts';
import type { HpaControllerOptions, HpaSpec, LimitReason, MetricSample, PodInfo } from './hpa/types.ts';
import { emptyKedaState, hpaForScaledObject, kedaHpaSamples, kedaPoll, type KedaAction, type KedaPollResult, type KedaState, type TriggerOutcome, type TriggerSample } from './keda/keda.ts';
import type { ScaledObjectSpec } from './keda/scaledobject.ts';

export type AutoscalerSource = { kind: 'hpa'; hpa: HpaSpec } | { kind: 'keda'; scaledObject: ScaledObjectSpec };

export interface ControllerOptions {
  /** kube-controller-manager settings (sync period, tolerance, windows). */
  hpa?: Partial<HpaControllerOptions>;
  guardrails?: GuardrailConfig;
}

/** Everything one sync needs; plain data, so it can be recorded and replayed. */
export interface SyncInput {
  /** Seconds; must not go backwards. */
  time: number;
  /** Replicas the target is asked to run now (scale.spec.replicas). */
  replicas: number;
  /** Replicas that exist (scale.status.replicas); default `replicas`. */
  statusReplicas?: number;
  /** Running and ready replicas, used when `pods` is not given; default `statusReplicas`. */
  readyReplicas?: number;
  /** The pods (for Resource metrics: with their requests). */
  pods?: readonly PodInfo[];
  /** HPA metric samples by metric key (see HpaSpec.metrics[].key). */
  metrics?: Readonly<Record<string, MetricSample>>;
  /** KEDA trigger samples by trigger key (its name, else its metric name such as "s0-prometheus"). */
  triggers?: Readonly<Record<string, TriggerSample>>;
  guardrails?: GuardrailSignals;
}

export type DecisionCondition =
  | 'NoSyncDue'
  | 'KedaActivated'
  | 'KedaDeactivated'
  | 'KedaCooldown'
  | 'KedaMinCorrection'
  | 'KedaTriggerError'
  | 'KedaFallback'
  | 'ScalingDisabled'
  | 'AboveMaxReplicas'
  | 'BelowMinReplicas'
  | 'MetricsUnavailable'
  | 'ScaleUpStabilized'
  | 'ScaleDownStabilized'
  | LimitReason
  | 'GuardrailDegraded'
  | 'GuardrailDiskYellow'
  | 'GuardrailDiskRed'
  | 'GuardrailCanaryCap';

export interface KedaDecision {
  active: boolean;
  action: KedaAction;
  /** Replicas KEDA set itself, or null. */
  desired: number | null;
  fallbackActive: boolean;
  composite: number | null;
  error: string | null;
  triggers: TriggerOutcome[];
}

export interface Decision {
  time: number;
  currentReplicas: number;
  desiredReplicas: number;
  /** Loops that ran at this sync, in order. */
  loops: ('keda' | 'hpa')[];
  /** The metrics' proposal before stabilisation and limits (the unclamped recommendation). */
  recommendation: number | null;
  /** The metric that made it. */
  recommendedBy: string | null;
  stabilizedRecommendation: number | null;
  /** What the HPA set, before guardrails. */
  hpaDesired: number | null;
  /** The HPA's ScalingLimited reason. */
  limit: LimitReason | null;
  /** Every rule that shaped this decision, in the order applied. */
  conditions: DecisionCondition[];
  metrics: MetricOutcome[];
  keda: KedaDecision | null;
  /** Guardrails that held scaling back at this sync. */
  guardrails: GuardrailHold[];
  /** Enabled guardrails without a signal at this sync. */
  guardrailsNoData: string[];
  error: string | null;
  /** One line for a human. */
  reason: string;
}

export interface ControllerState {
  lastHpaSyncAt: number | null;
  lastTime: number | null;
  normalization: NormalizationState;
  keda: KedaState | null;
  guardrails: GuardrailState;
}

const KEDA_CONDITION: Partial<Record<KedaAction, DecisionCondition>> = {
  activated: 'KedaActivated',
  deactivated: 'KedaDeactivated',
  cooldown: 'KedaCooldown',
  'min-correction': 'KedaMinCorrection',
  'partial-error': 'KedaTriggerError',
  'fallback-pending': 'KedaTriggerError',
  'trigger-error': 'KedaTriggerError',
};

const GUARDRAIL_CONDITION: Record<GuardrailHold['guardrail'], DecisionCondition> = {
  degraded: 'GuardrailDegraded',
  'disk-yellow': 'GuardrailDiskYellow',
  'disk-red': 'GuardrailDiskRed',
  'canary-cap': 'GuardrailCanaryCap',
};

export class AutoscaleController {
  readonly source: AutoscalerSource;
  readonly hpa: HpaSpec;
  private readonly options: HpaControllerOptions;
  private readonly guardrailConfig: GuardrailConfig;
  private state: ControllerState;

  constructor(source: AutoscalerSource, options: ControllerOptions = {}, state?: ControllerState) {
    this.source = source;
    this.hpa = source.kind === 'hpa' ? source.hpa : hpaForScaledObject(source.scaledObject);
    this.options = { ...CONTROLLER_DEFAULTS, ...options.hpa };
    this.guardrailConfig = options.guardrails ?? {};
    this.state = state
      ? structuredClone(state)
      : { lastHpaSyncAt: null, lastTime: null, normalization: emptyNormalizationState(), keda: source.kind === 'keda' ? emptyKedaState() : null, guardrails: emptyGuardrailState() };
  }

  /** The state as plain JSON (to persist, or to start another controller from). */
  snapshot(): ControllerState {
    return structuredClone(this.state);
  }

  /** When the next loop is due (seconds), or null before the first sync (due at once). */
  nextSyncAt(): number | null {
    const { lastTime, lastHpaSyncAt, keda } = this.state;
    if (lastTime === null) return null;
    const due = [lastHpaSyncAt === null ? lastTime : lastHpaSyncAt + this.options.syncPeriodSeconds];
    if (this.source.kind === 'keda' && keda !== null) {
      due.push(keda.lastPollAt === null ? lastTime : keda.lastPollAt + this.source.scaledObject.pollingIntervalSeconds);
    }
    return Math.min(...due);
  }

  sync(input: SyncInput): Decision {
    validateInput(input, this.state.lastTime);
    const current = input.replicas;
    const statusReplicas = input.statusReplicas ?? current;
    const readyPods = input.pods ? input.pods.filter((p) => (p.phase ?? 'Running') === 'Running' && p.ready !== false && p.deleted !== true).length : (input.readyReplicas ?? statusReplicas);
    const loops: Decision['loops'] = [];
    let spec = current;

    let poll: KedaPollResult | null = null;
    let kedaState = this.state.keda;
    if (this.source.kind === 'keda' && kedaState !== null) {
      const so = this.source.scaledObject;
      if (kedaState.lastPollAt === null || input.time - kedaState.lastPollAt >= so.pollingIntervalSeconds) {
        poll = kedaPoll(so, kedaState, input.triggers ?? {}, { now: input.time, specReplicas: spec, readyPods });
        kedaState = poll.state;
        loops.push('keda');
        if (poll.desired !== null) spec = poll.desired;
      }
    }

    let hpa: HpaSyncResult | null = null;
    let normalization = this.state.normalization;
    let lastHpaSyncAt = this.state.lastHpaSyncAt;
    const hpaDue = lastHpaSyncAt === null || input.time - lastHpaSyncAt >= this.options.syncPeriodSeconds;
    const kedaActed = poll !== null && poll.desired !== null && poll.desired !== current;
    if (hpaDue && !kedaActed) {
      let samples: Readonly<Record<string, MetricSample>> = input.metrics ?? {};
      if (this.source.kind === 'keda' && kedaState !== null) {
        const served = kedaHpaSamples(this.source.scaledObject, kedaState, input.triggers ?? {}, { now: input.time, specReplicas: spec, readyPods });
        kedaState = served.state;
        samples = served.samples;
      }
      hpa = hpaSync(this.hpa, normalization, { now: input.time, specReplicas: spec, statusReplicas, readyPods, pods: input.pods ?? [], samples }, this.options);
      normalization = hpa.state;
      lastHpaSyncAt = input.time;
      loops.push('hpa');
      spec = hpa.desired;
    }

    const guarded = applyGuardrails(this.guardrailConfig, this.state.guardrails, input.guardrails, { current, desired: spec, minReplicas: this.hpa.minReplicas });
    const desired = guarded.desired;
    // A change applied on an HPA sync (guardrails included) counts for the HPA's rate-limit
    // policies; KEDA's own activations and deactivations do not, as in a cluster.
    if (hpa !== null) normalization = recordRescale(normalization, this.hpa.behavior, current, desired, input.time);

    this.state = { lastHpaSyncAt, lastTime: input.time, normalization, keda: kedaState, guardrails: guarded.state };
    return buildDecision({ time: input.time, current, desired, loops, poll, hpa, held: guarded.held, noData: guarded.noData });
  }
}

function validateInput(input: SyncInput, lastTime: number | null): void {
  if (!Number.isFinite(input.time)) throw new Error(`sync time must be a finite number of seconds, got ${input.time}`);
  if (lastTime !== null && input.time < lastTime) throw new Error(`sync time went backwards: ${input.time} after ${lastTime}`);
  for (const [name, v] of [['replicas', input.replicas], ['statusReplicas', input.statusReplicas], ['readyReplicas', input.readyReplicas]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`${name} must be a whole number ≥ 0, got ${v}`);
  }
}

function buildDecision(args: {
  time: number;
  current: number;
  desired: number;
  loops: Decision['loops'];
  poll: KedaPollResult | null;
  hpa: HpaSyncResult | null;
  held: GuardrailHold[];
  noData: string[];
}): Decision {
  const { poll, hpa } = args;
  const conditions: DecisionCondition[] = [];
  if (args.loops.length === 0) conditions.push('NoSyncDue');
  if (poll !== null) {
    const c = KEDA_CONDITION[poll.action];
    if (c !== undefined) conditions.push(c);
    if (poll.fallbackActive) conditions.push('KedaFallback');
  }
  if (hpa !== null) {
    if (hpa.precheck !== null) conditions.push(hpa.precheck);
    if (hpa.recommendation === null && hpa.precheck === null) conditions.push('MetricsUnavailable');
    if (hpa.stabilization !== null) conditions.push(hpa.stabilization);
    if (hpa.limit !== null) conditions.push(hpa.limit);
  }
  for (const h of args.held) conditions.push(GUARDRAIL_CONDITION[h.guardrail]);

  const keda: KedaDecision | null =
    poll === null
      ? null
      : { active: poll.active, action: poll.action, desired: poll.desired, fallbackActive: poll.fallbackActive, composite: finite(poll.composite), error: poll.error, triggers: poll.triggers };
  const error = hpa?.error ?? poll?.error ?? null;
  return {
    time: args.time,
    currentReplicas: args.current,
    desiredReplicas: args.desired,
    loops: args.loops,
    recommendation: hpa?.recommendation ?? null,
    recommendedBy: hpa?.recommendedBy ?? null,
    stabilizedRecommendation: hpa?.stabilized ?? null,
    hpaDesired: hpa?.desired ?? null,
    limit: hpa?.limit ?? null,
    conditions,
    metrics: hpa?.metrics ?? [],
    keda,
    guardrails: args.held,
    guardrailsNoData: args.noData,
    error,
    reason: reason(args, error),
  };
}

function finite(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? x : null;
}

const KEDA_TEXT: Record<KedaAction, string> = {
  activated: 'KEDA activated the target (a trigger is active)',
  deactivated: 'KEDA deactivated the target (no trigger active for the cooldown period)',
  cooldown: 'KEDA is cooling down (no trigger active yet)',
  'min-correction': 'KEDA raised the target to minReplicaCount',
  active: 'KEDA: triggers active',
  inactive: 'KEDA: no trigger active',
  'partial-error': 'KEDA: some triggers failed',
  'fallback-pending': 'KEDA: triggers failing, fallback not reached yet',
  'trigger-error': 'KEDA: triggers failing and no fallback',
};

const PRECHECK_TEXT: Record<string, string> = {
  ScalingDisabled: 'scaling disabled at 0 replicas',
  AboveMaxReplicas: 'current count above maxReplicas',
  BelowMinReplicas: 'current count below minReplicas',
};

function reason(args: { current: number; desired: number; loops: Decision['loops']; poll: KedaPollResult | null; hpa: HpaSyncResult | null; held: GuardrailHold[]; noData: string[] }, error: string | null): string {
  const { current, desired, poll, hpa } = args;
  const verb = desired > current ? `scale up ${current} → ${desired}` : desired < current ? `scale down ${current} → ${desired}` : `hold at ${current}`;
  const parts: string[] = [];
  if (args.loops.length === 0) parts.push('no sync due');
  if (poll !== null && (poll.desired !== null || poll.action !== 'active' || poll.fallbackActive)) {
    parts.push(KEDA_TEXT[poll.action] + (poll.fallbackActive ? ', fallback in use' : ''));
  }
  if (hpa !== null) {
    if (hpa.precheck !== null) parts.push(PRECHECK_TEXT[hpa.precheck] ?? hpa.precheck);
    else if (hpa.recommendation === null) parts.push(`metrics unavailable (${error ?? 'no metric'})`);
    else {
      parts.push(`${hpa.recommendedBy ?? 'metrics'} propose${hpa.recommendedBy ? 's' : ''} ${hpa.recommendation}`);
      if (hpa.stabilization !== null) parts.push(`${hpa.stabilization === 'ScaleUpStabilized' ? 'scale-up' : 'scale-down'} stabilised to ${hpa.stabilized}`);
      if (hpa.limit !== null && hpa.limit !== 'DesiredWithinRange') parts.push(`${hpa.limit} holds it to ${hpa.desired}`);
      if (hpa.error !== null) parts.push(`partial metrics: ${hpa.error}`);
    }
  }
  for (const h of args.held) parts.push(`guardrail ${h.guardrail}: ${h.detail} (wanted ${h.wanted})`);
  if (args.noData.length > 0) parts.push(`no data for guardrail ${args.noData.join(', ')}`);
  return parts.length > 0 ? `${verb}: ${parts.join('; ')}` : verb;
}
