// `clawstorm testbed status`: is each process alive (and healthy), what HAProxy thinks of each
// gateway, and whether Prometheus scrapes every target.
import { showServersState, type ServerState } from '../lb/runtime.ts';
import { PromClient } from '../prom/client.ts';
import { redact } from '../util/redact.ts';
import { readState, resolveStateDir, type ProcessRole, type TestbedPhase } from './state.ts';
import { httpOk, ownsRecord, procState } from '../util/supervise.ts';
import type { AnyTestbedEndpoints } from './types.ts';

export interface ProcessStatus {
  name: string;
  role: ProcessRole;
  pid: number;
  /** Running the recorded command (a recycled pid counts as dead). */
  alive: boolean;
  /** SIGSTOPped (hung on purpose by a drill). */
  stopped: boolean;
  /** Health URL answered 200; undefined when the process has none or is not alive. */
  healthy?: boolean;
  logFile: string;
}

export interface TargetStatus {
  job: string;
  instance: string;
  up: boolean;
  lastError: string;
}

export interface TestbedStatus {
  id: string;
  stateDir: string;
  phase: TestbedPhase;
  startedAt: string;
  error?: string;
  endpoints?: AnyTestbedEndpoints;
  processes: ProcessStatus[];
  haproxy: { servers: ServerState[] } | { error: string } | undefined;
  prometheus: { targets: TargetStatus[] } | { error: string } | undefined;
  notes: string[];
  /** Everything alive and healthy, every HAProxy server UP, every target up. */
  ok: boolean;
}

export async function testbedStatus(stateDirOrId: string): Promise<TestbedStatus> {
  const stateDir = resolveStateDir(stateDirOrId);
  const state = readState(stateDir);
  const processes = await Promise.all(
    state.processes.map(async (p): Promise<ProcessStatus> => {
      const alive = ownsRecord(p);
      const stopped = alive && (procState(p.pid) === 'T' || procState(p.pid) === 't');
      const healthy = alive && !stopped && p.healthUrl ? await httpOk(p.healthUrl, 1_500) : undefined;
      return { name: p.name, role: p.role, pid: p.pid, alive, stopped, healthy, logFile: p.logFile };
    }),
  );
  const ep = state.endpoints;
  const live = state.phase === 'up' || state.phase === 'starting';
  const [haproxy, prometheus] = await Promise.all([
    ep && live
      ? showServersState(ep.haproxy).then(
          (servers) => ({ servers }),
          (err: unknown) => ({ error: redact((err as Error).message) }),
        )
      : Promise.resolve(undefined),
    ep && live
      ? new PromClient({ url: ep.prometheus.url, timeoutMs: 3_000 }).targets().then(
          (ts) => ({
            targets: ts.map((t) => ({ job: t.scrapePool, instance: t.labels.instance ?? t.scrapeUrl, up: t.health === 'up', lastError: t.lastError })),
          }),
          (err: unknown) => ({ error: redact((err as Error).message) }),
        )
      : Promise.resolve(undefined),
  ]);
  const ok =
    state.phase === 'up' &&
    processes.every((p) => p.alive && !p.stopped && p.healthy !== false) &&
    haproxy !== undefined &&
    'servers' in haproxy &&
    haproxy.servers.every((s) => s.opState === 'UP') &&
    prometheus !== undefined &&
    'targets' in prometheus &&
    prometheus.targets.every((t) => t.up);
  return {
    id: state.id,
    stateDir,
    phase: state.phase,
    startedAt: state.startedAt,
    error: state.error,
    endpoints: ep,
    processes,
    haproxy,
    prometheus,
    notes: state.notes,
    ok,
  };
}
