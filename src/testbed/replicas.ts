// Adding and removing reference replicas (a gateway with its policy sidecar) on a running bed, as a
// scaling controller does. A replica joins in the order a Deployment's pod becomes Ready: its sidecar
// and gateway start and answer their health checks, HAProxy gets it as a dynamic server and sees it
// pass the composite-probe check, then Prometheus gets it as a target. It leaves the way a
// terminating pod does: it stops being a target (an HPA ignores terminating pods), HAProxy drains it
// (no new sessions; the ones open get `drainTimeoutMs` to finish), the gateway gets SIGTERM (its own
// drain), the sidecar stops, and HAProxy deletes the server. Every pid is in the state file the
// moment it exists, so `down` stops a replica caught half-way.
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { PolicySidecarConfigSchema } from '../../harness/policy/config.ts';
import { addServer, deleteServer, setState, showServersState } from '../lb/runtime.ts';
import { waitAllServersUp } from './startup.ts';
import { freePorts } from '../util/ports.ts';
import { waitFor } from '../util/wait.ts';
import { stopGateway, stopSidecar } from './control.ts';
import { SCRIPTS } from './paths.ts';
import { addTarget, removeTargetsOf } from './prom-targets.ts';
import { azOf, dbPoolMaxFor, gatewayConfig } from './reference-fleet.ts';
import { startServiceOnSlot } from './services.ts';
import { readState, updateState, type TestbedProcess } from './state.ts';
import { readTokenFile } from './tokens.ts';
import { referenceBed, type TestbedEndpoints } from './types.ts';

export interface ReplicaOptions {
  healthTimeoutMs?: number;
  /** How long HAProxy may take to see a new gateway pass its check; default 20 s. */
  lbTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface StartedReplica {
  id: string;
  az: string;
  url: string;
  ms: number;
}

const NUMBERED = /^gw-(\d+)$/;

/** The gateways of the bed now (its endpoints, kept current by add/remove). */
export function replicaIds(stateDir: string): string[] {
  const e = readState(stateDir).endpoints;
  return e === undefined ? [] : e.gateways.map((g) => g.id);
}

/** The lowest free `gw-N` numbers, `count` of them, none of `reserved`. */
export function nextReplicaIds(existing: readonly string[], reserved: ReadonlySet<string>, count: number): string[] {
  const taken = new Set([...existing, ...reserved]);
  const out: string[] = [];
  for (let n = 1; out.length < count; n++) if (!taken.has(`gw-${n}`)) out.push(`gw-${n}`);
  return out;
}

function bedOf(stateDir: string): TestbedEndpoints {
  const e = readState(stateDir).endpoints;
  if (e === undefined) throw new Error(`test bed in ${stateDir} has no endpoints (not up)`);
  return referenceBed(e, 'adding replicas');
}

function recordInState(stateDir: string) {
  return {
    record: (role: TestbedProcess['role'], p: { name: string; pid: number; command: string; args: string[]; logFile: string }, extra: Partial<TestbedProcess>) =>
      updateState(stateDir, (s) => {
        s.processes = s.processes.filter((x) => x.name !== p.name);
        s.processes.push({ name: p.name, pid: p.pid, command: p.command, args: p.args, logFile: p.logFile, role, ports: [], startedAt: new Date().toISOString(), ...extra });
      }),
    forget: (pid: number) =>
      updateState(stateDir, (s) => {
        s.processes = s.processes.filter((x) => x.pid !== pid);
      }),
  };
}

/** Start replica `id` (`gw-N`, sidecar `policy-N`) and put it behind HAProxy and into Prometheus. */
export async function startReplica(stateDir: string, id: string, opts: ReplicaOptions = {}): Promise<StartedReplica> {
  const t0 = Date.now();
  const m = NUMBERED.exec(id);
  if (!m) throw new Error(`replica id must be gw-<n> (got ${JSON.stringify(id)})`);
  const n = Number(m[1]);
  const bed = bedOf(stateDir);
  if (bed.gateways.some((g) => g.id === id)) throw new Error(`test bed ${bed.id} already has ${id}`);
  const policyId = `policy-${n}`;
  const az = azOf(n);
  const cfgDir = path.join(stateDir, 'config');
  const logDir = path.join(stateDir, 'logs');
  const timeoutMs = opts.healthTimeoutMs ?? 30_000;
  const tokens = {
    gateway: readTokenFile(bed.tokenFiles.gateway),
    hook: readTokenFile(bed.tokenFiles.hook),
    admin: readTokenFile(bed.tokenFiles.admin),
    probe: readTokenFile(bed.tokenFiles.probe),
  };
  const [p1, p2] = await freePorts(2);
  const sidecar = { port: p1!, url: `http://127.0.0.1:${p1}` };
  const gateway = { port: p2!, url: `http://127.0.0.1:${p2}` };
  const { record, forget } = recordInState(stateDir);
  const tenantId = bed.tenantId ?? 'acme';
  let inLb = false;
  try {
    await startServiceOnSlot({
      role: 'policy',
      name: policyId,
      script: SCRIPTS.policy,
      slot: sidecar,
      configFor: (port) => ({ id: policyId, host: '127.0.0.1', port, databaseUrl: bed.database.url, redisUrl: bed.redis.url, tenantId }) satisfies z.input<typeof PolicySidecarConfigSchema>,
      healthPath: '/health',
      configDir: cfgDir,
      logDir,
      timeoutMs,
      record,
      forget,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const dataDir = path.join(stateDir, 'data', id);
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    await startServiceOnSlot({
      role: 'gateway',
      name: id,
      script: SCRIPTS.gateway,
      slot: gateway,
      configFor: (port) => ({
        ...gatewayConfig({
          id,
          az,
          port,
          skillHash: bed.skillHash ?? 'clawstorm-autoscale',
          tenantId,
          tokens,
          redisUrl: bed.redis.url,
          databaseUrl: bed.database.url,
          dbPoolMax: dbPoolMaxFor(bed.database.kind),
          policyUrl: sidecar.url,
          upstreamUrl: bed.upstreams.url,
          dataDir,
        }),
        ...(bed.notifier ? { notifierUrl: bed.notifier.url } : {}),
      }),
      healthPath: '/healthz',
      configDir: cfgDir,
      logDir,
      timeoutMs,
      record,
      forget,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await addServer(bed, { name: id, port: gateway.port });
    inLb = true;
    // A server added at run time counts as UP before its first check: wait for a passed one.
    await waitAllServersUp(bed.haproxy, [id], opts.lbTimeoutMs ?? 20_000);
    addTarget(stateDir, 'gateway', { target: `127.0.0.1:${gateway.port}`, labels: { gateway: id, az } });
    addTarget(stateDir, 'policy', { target: `127.0.0.1:${sidecar.port}`, labels: { gateway: id, az } });
    updateState(stateDir, (s) => {
      const e = s.endpoints;
      if (e === undefined || e.kind === 'openclaw') return;
      e.gateways = [...e.gateways.filter((g) => g.id !== id), { id, az, url: gateway.url, server: id, configFile: path.join(cfgDir, `${id}.json`) }];
      e.policies = [...e.policies.filter((p) => p.id !== policyId), { id: policyId, gateway: id, url: sidecar.url }];
    });
    return { id, az, url: gateway.url, ms: Date.now() - t0 };
  } catch (err) {
    // Leave nothing half-started behind: what did start is stopped and forgotten.
    await cleanup(stateDir, id, policyId, inLb).catch(() => {});
    throw err;
  }
}

async function cleanup(stateDir: string, id: string, policyId: string, inLb: boolean): Promise<void> {
  removeTargetsOf(stateDir, 'gateway', id);
  removeTargetsOf(stateDir, 'policy', id);
  if (inLb) await deleteServer(bedOf(stateDir), id).catch(() => {});
  const names = new Set(readState(stateDir).processes.map((p) => p.name));
  if (names.has(id)) await stopGateway(stateDir, id, 'SIGKILL').catch(() => {});
  if (names.has(policyId)) await stopSidecar(stateDir, policyId, 'SIGKILL').catch(() => {});
  updateState(stateDir, (s) => {
    s.processes = s.processes.filter((p) => p.name !== id && p.name !== policyId);
  });
}

export interface StoppedReplica {
  id: string;
  /** Sessions still open on it when the drain deadline passed (0: it drained). */
  leftOpen: number;
  ms: number;
}

/** Take replica `id` out: no longer a target, drained in HAProxy, stopped, deleted from the backend. */
export async function stopReplica(stateDir: string, id: string, opts: { drainTimeoutMs?: number } = {}): Promise<StoppedReplica> {
  const t0 = Date.now();
  const bed = bedOf(stateDir);
  const gw = bed.gateways.find((g) => g.id === id);
  if (gw === undefined) throw new Error(`test bed ${bed.id} has no replica ${id} (has ${bed.gateways.map((g) => g.id).join(', ')})`);
  const policy = bed.policies.find((p) => p.gateway === id);
  removeTargetsOf(stateDir, 'gateway', id);
  removeTargetsOf(stateDir, 'policy', id);
  updateState(stateDir, (s) => {
    const e = s.endpoints;
    if (e === undefined || e.kind === 'openclaw') return;
    e.gateways = e.gateways.filter((g) => g.id !== id);
    e.policies = e.policies.filter((p) => p.gateway !== id);
  });
  await setState(bed, id, 'drain');
  let leftOpen = 0;
  await waitFor(
    async () => {
      leftOpen = (await showServersState(bed)).find((s) => s.name === id)?.sessions ?? 0;
      return leftOpen === 0;
    },
    { timeoutMs: opts.drainTimeoutMs ?? 15_000, intervalMs: 200, what: `${id} to drain` },
  ).catch(() => {});
  await stopGateway(stateDir, id, 'SIGTERM');
  if (policy) await stopSidecar(stateDir, policy.id, 'SIGTERM');
  await deleteServer(bed, id);
  updateState(stateDir, (s) => {
    s.processes = s.processes.filter((p) => p.name !== id && p.name !== policy?.id);
  });
  return { id, leftOpen, ms: Date.now() - t0 };
}
