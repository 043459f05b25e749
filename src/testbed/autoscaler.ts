// `testbed up --autoscale FILE`: the bed's own autoscaler process, started once the fleet is up. It
// runs the user's HPA or ScaledObject as a controller loop (src/scale/live.ts) that adds and removes
// reference replicas; Prometheus scrapes its replica count (file-based discovery, job `autoscaler`)
// and its log goes under `<state>/autoscale/`. The file and the queries are checked before anything
// of the bed starts, so a bad file costs nothing.
import path from 'node:path';
import { waitForTargetsUp } from '../prom/targets.ts';
import { logFileOf } from '../scale/log.ts';
import type { AutoscalerConfig } from '../scale/live.ts';
import { buildPlan, type PlanOptions } from '../scale/plan.ts';
import { loadAutoscaler, type LoadedSource } from '../scale/source.ts';
import { freePort } from '../util/ports.ts';
import { SCRIPTS } from './paths.ts';
import { addTarget } from './prom-targets.ts';
import { startServiceOnSlot } from './services.ts';
import type { StartupKit } from './startup.ts';
import { writeState, type TestbedState } from './state.ts';

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

export async function startAutoscaler(state: TestbedState, kit: StartupKit, o: AutoscaleOptions, ctx: { prometheusUrl: string; initialReplicas: number; signal: AbortSignal }): Promise<void> {
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
        signal: ctx.signal,
      });
      addTarget(state.stateDir, 'autoscaler', { target: `127.0.0.1:${slot.port}`, labels: {} });
      await waitForTargetsUp(ctx.prometheusUrl, { jobs: ['autoscaler'], timeoutMs: 30_000 });
    },
    () => `${loaded.source.kind === 'hpa' ? 'HPA' : 'ScaledObject'} ${loaded.name}, replicas ${loaded.minReplicas}–${loaded.maxReplicas}, sync every ${syncPeriodSeconds} s (read ${settleSeconds} s after), port ${slot.port}`,
  );
}
