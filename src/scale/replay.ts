// The autoscaler replayed over a window of Prometheus series: at every point of the sync grid,
// observe (observe.ts) and feed the controller; a second controller is fed the same inputs with
// every avg() over-read corrected, which tells how many replicas the over-read added.
//
// The grid is aligned to the epoch (multiples of the sync period), and the live controller of a
// test bed evaluates on the same grid: a replay of any window that covers the live controller's
// syncs reads Prometheus at exactly the times the live controller did.
import { AutoscaleController, type AutoscalerSource, type ControllerOptions, type Decision, type SyncInput } from '../autoscale/controller.ts';
import { observeAt, type Observation, type QueryAt } from './observe.ts';
import type { ObservationPlan } from './plan.ts';

/** Sync times in [from, to], multiples of `periodSeconds` (whole seconds). */
export function syncGrid(from: number, to: number, periodSeconds: number): number[] {
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1) throw new RangeError(`sync period must be a whole number of seconds ≥ 1 (got ${periodSeconds})`);
  const out: number[] = [];
  for (let t = Math.ceil(from / periodSeconds) * periodSeconds; t <= to; t += periodSeconds) out.push(t);
  return out;
}

/** The next grid time at or after `t`. */
export function nextGridTime(t: number, periodSeconds: number): number {
  return Math.ceil(t / periodSeconds) * periodSeconds;
}

export interface ReplayStep {
  time: number;
  observation: Observation;
  /** null when the sync could not run (no replica count). */
  decision: Decision | null;
  /** The decision with avg() over-reads corrected (equal to `decision` where there was none). */
  corrected: Decision | null;
}

export interface ReplaySpec {
  source: AutoscalerSource;
  plan: ObservationPlan;
  controller: ControllerOptions;
  from: number;
  to: number;
  syncPeriodSeconds: number;
}

/** Step the controllers through the grid, one observation at a time (they keep the state between). */
export class Replayer {
  private readonly actual: AutoscaleController;
  private readonly counterfactual: AutoscaleController;

  constructor(source: AutoscalerSource, controller: ControllerOptions) {
    this.actual = new AutoscaleController(source, controller);
    this.counterfactual = new AutoscaleController(source, controller);
  }

  get hpa() {
    return this.actual.hpa;
  }

  step(observation: Observation): ReplayStep {
    const input: SyncInput | null = observation.input;
    if (input === null) return { time: observation.time, observation, decision: null, corrected: null };
    const decision = this.actual.sync(input);
    const corrected = this.counterfactual.sync(observation.corrected ?? input);
    return { time: observation.time, observation, decision, corrected };
  }
}

export async function replay(spec: ReplaySpec, query: QueryAt, onStep?: (s: ReplayStep) => void): Promise<ReplayStep[]> {
  const replayer = new Replayer(spec.source, { ...spec.controller, hpa: { ...spec.controller.hpa, syncPeriodSeconds: spec.syncPeriodSeconds } });
  const steps: ReplayStep[] = [];
  for (const t of syncGrid(spec.from, spec.to, spec.syncPeriodSeconds)) {
    const s = replayer.step(await observeAt(query, spec.plan, t));
    steps.push(s);
    onStep?.(s);
  }
  return steps;
}
