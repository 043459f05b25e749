// The live autoscaler of a test bed: the same controller a replay runs, fed by the same observe
// function, on the same epoch-aligned sync grid, acting on the bed by starting and stopping
// replicas.
//
// Why a live decision and a later replay see the same inputs: at grid time T the loop waits until
// T + settle before it reads, and reads Prometheus *at* T (an instant query with time=T). Every
// sample stamped at or before T has been ingested by then (a scrape is stamped when it starts and
// ends within its timeout, 1 s on the bed), and nothing ingested later can carry an earlier stamp,
// so a replay that queries at T afterwards gets the same answers. The replica count the controller
// acts on is a series too (this process's own gauge, scraped like the gateways), read at T like
// everything else, never taken from memory: memory is exactly what a replay would not have. If the
// loop falls behind (a busy machine), it still evaluates every grid time in order, at that time.
import { z } from 'zod';
import type { Decision } from '../autoscale/controller.ts';
import { appendLog } from './log.ts';
import { observeAt, type QueryAt } from './observe.ts';
import type { ObservationPlan } from './plan.ts';
import { nextGridTime, Replayer } from './replay.ts';
import type { LoadedSource } from './source.ts';

export const AutoscalerConfigSchema = z.strictObject({
  stateDir: z.string(),
  file: z.string(),
  kind: z.enum(['hpa', 'keda']),
  prometheusUrl: z.string(),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  syncPeriodSeconds: z.number().int().min(1),
  settleSeconds: z.number().min(0),
  plan: z.looseObject({}),
  controller: z.strictObject({ tolerance: z.number().min(0).optional(), downscaleStabilizationSeconds: z.number().int().min(0).optional() }).default({}),
  initialReplicas: z.number().int().min(1),
  drainTimeoutMs: z.number().int().min(0).default(15_000),
  logFile: z.string(),
});
export type AutoscalerConfig = z.output<typeof AutoscalerConfigSchema>;

/** What the loop asks of the bed. */
export interface Actuator {
  /** Run `replicas` from now on (returns at once; the bed catches up in the background). */
  request(replicas: number): void;
}

export interface LiveDeps {
  query: QueryAt;
  /** Unix seconds. */
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  actuator: Actuator;
  onSpec: (replicas: number) => void;
  onSync?: (time: number, decision: Decision | null) => void;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export class LiveAutoscaler {
  private readonly replayer: Replayer;
  private readonly cfg: AutoscalerConfig;
  private readonly plan: ObservationPlan;
  private readonly deps: LiveDeps;
  private readonly loaded: LoadedSource;

  constructor(cfg: AutoscalerConfig, loaded: LoadedSource, plan: ObservationPlan, deps: LiveDeps) {
    this.cfg = cfg;
    this.loaded = loaded;
    this.plan = plan;
    this.deps = deps;
    this.replayer = new Replayer(loaded.source, { hpa: { ...cfg.controller, syncPeriodSeconds: cfg.syncPeriodSeconds }, guardrails: plan.guardrails.config });
  }

  writeHeader(): void {
    appendLog(this.cfg.logFile, {
      kind: 'header',
      startedAt: new Date(this.deps.now() * 1000).toISOString(),
      file: this.cfg.file,
      source: this.loaded.source.kind,
      name: this.loaded.name,
      syncPeriodSeconds: this.cfg.syncPeriodSeconds,
      settleSeconds: this.cfg.settleSeconds,
      minReplicas: this.loaded.minReplicas,
      maxReplicas: this.loaded.maxReplicas,
      plan: this.plan,
      controller: this.cfg.controller,
    });
  }

  /** Until `signal` aborts: every grid time from the next one on, in order. */
  async run(signal: AbortSignal): Promise<void> {
    const period = this.cfg.syncPeriodSeconds;
    let t = nextGridTime(this.deps.now(), period);
    while (!signal.aborted) {
      const wait = (t + this.cfg.settleSeconds - this.deps.now()) * 1000;
      if (wait > 0) await this.deps.sleep(wait, signal);
      if (signal.aborted) break;
      await this.syncAt(t);
      t += period;
    }
  }

  /** One sync at grid time `t`: observe at t, decide, record, act. */
  async syncAt(t: number): Promise<Decision | null> {
    const readAt = this.deps.now();
    let observation;
    try {
      observation = await observeAt(this.deps.query, this.plan, t);
    } catch (err) {
      // Prometheus did not answer: no inputs, no decision, and the controller's state is untouched.
      appendLog(this.cfg.logFile, { kind: 'sync', time: t, readAt, answers: {}, input: null, decision: null, gaps: [{ what: 'prometheus', detail: (err as Error).message }] });
      this.deps.log('sync skipped: Prometheus did not answer', { time: t, error: (err as Error).message });
      this.deps.onSync?.(t, null);
      return null;
    }
    const step = this.replayer.step(observation);
    appendLog(this.cfg.logFile, { kind: 'sync', time: t, readAt, answers: observation.answers, input: observation.input, decision: step.decision, gaps: observation.gaps });
    this.deps.onSync?.(t, step.decision);
    if (step.decision !== null) {
      const d = step.decision;
      if (d.desiredReplicas !== d.currentReplicas) this.deps.log('scale', { time: t, from: d.currentReplicas, to: d.desiredReplicas, reason: d.reason });
      this.deps.onSpec(d.desiredReplicas);
      this.deps.actuator.request(d.desiredReplicas);
    }
    return step.decision;
  }
}

/**
 * Brings the bed to the requested replica count: starts the missing replicas (lowest free numbers)
 * or stops the newest ones, each in parallel. A request that asks for more while replicas are
 * starting starts the difference at once (capacity should not wait for the previous batch); starts
 * and stops never overlap, so a number being stopped is never reused before it is gone. A failed
 * start or stop is logged and not retried until the next request, so a broken bed does not spin.
 */
export class Reconciler implements Actuator {
  private target: number | null = null;
  private readonly starting = new Set<string>();
  private readonly stopping = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private failed = false;
  private readonly ops: {
    /** Replicas serving now (a replica leaves this list when its stop begins, joins when its start ends). */
    list: () => string[];
    next: (existing: string[], count: number) => string[];
    start: (id: string) => Promise<void>;
    stop: (id: string) => Promise<void>;
    signal: AbortSignal;
  };

  constructor(ops: Reconciler['ops']) {
    this.ops = ops;
  }

  request(replicas: number): void {
    this.target = replicas;
    this.failed = false;
    this.pump();
  }

  /** Resolves when nothing is starting or stopping. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private track(id: string, set: Set<string>, op: Promise<void>): void {
    set.add(id);
    const p = op.then(
      () => {},
      () => {
        this.failed = true;
      },
    ).finally(() => {
      set.delete(id);
      this.inflight.delete(p);
      this.pump();
    });
    this.inflight.add(p);
  }

  private pump(): void {
    if (this.target === null || this.failed || this.ops.signal.aborted) return;
    const serving = this.ops.list().filter((id) => !this.stopping.has(id));
    const have = serving.length + this.starting.size;
    if (have < this.target && this.stopping.size === 0) {
      for (const id of this.ops.next([...serving, ...this.starting], this.target - have)) this.track(id, this.starting, this.ops.start(id));
    } else if (have > this.target && this.starting.size === 0) {
      const newest = [...serving].sort((a, b) => Number(b.replace(/\D+/g, '')) - Number(a.replace(/\D+/g, ''))).slice(0, have - this.target);
      for (const id of newest) this.track(id, this.stopping, this.ops.stop(id));
    }
  }
}
