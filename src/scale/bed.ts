// `testbed up --autoscale FILE`: a reference bed with its own autoscaler process, started once the
// fleet is up. The process (autoscaler-main.ts) runs the user's HPA or ScaledObject as a controller
// loop (live.ts) that adds and removes reference replicas; Prometheus scrapes its replica count
// (file-based discovery, job `autoscaler`) and its log goes under `<state>/autoscale/`. The file and
// its queries are checked before anything of the bed starts, so a bad file costs nothing.
//
// This lives beside the controller rather than in src/testbed/: the bed knows nothing of
// autoscaling (the controller's guardrails reach the chaos policies, which act on beds), and
// composing the two here keeps every import pointing one way.
import path from 'node:path';
import { waitForTargetsUp } from '../prom/targets.ts';
import { stopTestbed } from '../testbed/down.ts';
import { SCRIPTS } from '../testbed/paths.ts';
import { addTarget } from '../testbed/prom-targets.ts';
import { startServiceOnSlot } from '../testbed/services.ts';
import { startupKit } from '../testbed/startup.ts';
import { readState, updateState, writeState } from '../testbed/state.ts';
import type { TestbedEndpoints } from '../testbed/types.ts';
import { startTestbed, type StartTestbedOptions } from '../testbed/up.ts';
import { freePort } from '../util/ports.ts';
import { redact } from '../util/redact.ts';
import type { AutoscalerConfig } from './live.ts';
import { logFileOf } from './log.ts';
import { buildPlan, type PlanOptions } from './plan.ts';
import { loadAutoscaler, type LoadedSource } from './source.ts';

/** Replicas one machine's bed may be scaled to (each is two Node processes). */
export const MAX_BED_REPLICAS = 12;
/** Default sync period on a bed: 15 s is the HPA's, shortened so a run on 2 cores lasts minutes. */
export const BED_SYNC_PERIOD_SECONDS = 5;
/** Read each grid time this long after it: the bed scrapes every 1 s with a 1 s timeout. */
export const BED_SETTLE_SECONDS = 2;

export interface AutoscaleOptions {
  file: string;
  syncPeriodSeconds?: number;
  settleSeconds?: number;
  plan?: PlanOptions;
  controller?: AutoscalerConfig['controller'];
  drainTimeoutMs?: number;
}

/** The file and its queries, checked; throws ManifestError / PlanError / RangeError. */
export function checkAutoscale(o: AutoscaleOptions): LoadedSource {
  const loaded = loadAutoscaler(path.resolve(o.file));
  buildPlan(loaded.source, o.file, o.plan);
  if (loaded.maxReplicas > MAX_BED_REPLICAS) {
    throw new RangeError(`${o.file}: maxReplicas ${loaded.maxReplicas}: a test bed on one machine scales to at most ${MAX_BED_REPLICAS} replicas`);
  }
  if (loaded.source.kind === 'keda' && (loaded.source.scaledObject.minReplicaCount === 0 || loaded.source.scaledObject.idleReplicaCount === 0)) {
    // Scaling to zero would leave HAProxy without a gateway and the bed without a fleet to measure.
    throw new RangeError(`${o.file}: spec.minReplicaCount/idleReplicaCount 0: a test bed keeps at least one gateway; replay scale-to-zero with clawstorm scale replay instead`);
  }
  const sync = o.syncPeriodSeconds ?? BED_SYNC_PERIOD_SECONDS;
  if (!Number.isInteger(sync) || sync < 1) throw new RangeError(`sync period must be whole seconds ≥ 1 (got ${sync})`);
  return loaded;
}

/** The replicas a bed starts with under this autoscaler: its minimum (at least 1). */
export function initialReplicasFor(loaded: LoadedSource): number {
  return Math.max(1, loaded.minReplicas);
}

export interface ScalingBedOptions extends Omit<StartTestbedOptions, 'gateways'> {
  autoscale: AutoscaleOptions;
}

/** A reference bed (at the autoscaler's minimum unless `replicas` says otherwise) and its autoscaler. */
export async function startScalingBed(opts: ScalingBedOptions): Promise<TestbedEndpoints> {
  const loaded = checkAutoscale(opts.autoscale);
  const replicas = opts.replicas ?? initialReplicasFor(loaded);
  const endpoints = await startTestbed({ ...opts, gateways: 'reference', replicas });
  try {
    await startAutoscaler(endpoints.stateDir, opts, { prometheusUrl: endpoints.prometheus.url, initialReplicas: replicas });
    return endpoints;
  } catch (err) {
    const cause = opts.signal?.aborted ? (opts.signal.reason as Error) : err;
    if (!opts.keepOnFailure) {
      await stopTestbed(endpoints.stateDir).catch(() => {});
      updateState(endpoints.stateDir, (s) => {
        s.error = redact((cause as Error).message);
      });
    }
    throw cause;
  }
}

async function startAutoscaler(stateDir: string, opts: ScalingBedOptions, ctx: { prometheusUrl: string; initialReplicas: number }): Promise<void> {
  const o = opts.autoscale;
  const state = readState(stateDir);
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const kit = startupKit(state, opts, ctl, new Set());
  try {
    const loaded = checkAutoscale(o);
    const port = await freePort();
    const slot = { port, url: `http://127.0.0.1:${port}` };
    const logFile = logFileOf(state.stateDir);
    const syncPeriodSeconds = o.syncPeriodSeconds ?? BED_SYNC_PERIOD_SECONDS;
    const settleSeconds = o.settleSeconds ?? BED_SETTLE_SECONDS;
    const configFor = (p: number): AutoscalerConfig => ({
      stateDir: state.stateDir,
      file: loaded.file,
      kind: loaded.source.kind,
      prometheusUrl: ctx.prometheusUrl,
      host: '127.0.0.1',
      port: p,
      syncPeriodSeconds,
      settleSeconds,
      plan: { ...o.plan },
      controller: o.controller ?? {},
      initialReplicas: ctx.initialReplicas,
      drainTimeoutMs: o.drainTimeoutMs ?? 15_000,
      logFile,
    });
    // Written before the process exists: once it runs, it is the only writer of the state file
    // besides `down` (it records the replicas it starts), so nothing here writes the state after.
    state.autoscale = { file: loaded.file, configFile: path.join(state.stateDir, 'config', 'autoscaler.json'), logFile, syncPeriodSeconds, settleSeconds };
    writeState(state);
    await kit.step(
      'autoscaler',
      async () => {
        await startServiceOnSlot({
          role: 'autoscaler',
          name: 'autoscaler',
          script: SCRIPTS.autoscaler,
          slot,
          configFor,
          healthPath: '/healthz',
          configDir: path.join(state.stateDir, 'config'),
          logDir: path.join(state.stateDir, 'logs'),
          timeoutMs: 30_000,
          record: kit.record,
          forget: kit.forget,
          signal: ctl.signal,
        });
        addTarget(state.stateDir, 'autoscaler', { target: `127.0.0.1:${slot.port}`, labels: {} });
        await waitForTargetsUp(ctx.prometheusUrl, { jobs: ['autoscaler'], timeoutMs: 30_000 });
      },
      () => `${loaded.source.kind === 'hpa' ? 'HPA' : 'ScaledObject'} ${loaded.name}, replicas ${loaded.minReplicas}–${loaded.maxReplicas}, sync every ${syncPeriodSeconds} s (read ${settleSeconds} s after), port ${slot.port}`,
    );  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
