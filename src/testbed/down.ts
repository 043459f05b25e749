// `clawstorm testbed down`: stop what the state file records, and nothing else.
import fs from 'node:fs';
import { isListening } from '../util/ports.ts';
import { isAlive, killLeftovers, stopProcess, stopProcessTree } from '../util/proc.ts';
import { redact } from '../util/redact.ts';
import { waitFor } from '../util/wait.ts';
import { dropDatabase } from './database.ts';
import {
  listTestbeds,
  readState,
  resolveStateDir,
  unlinkFromRoot,
  writeState,
  type ProcessRole,
  type TestbedProcess,
} from './state.ts';
import { ownsRecord } from '../util/supervise.ts';

export interface StopReport {
  id: string;
  stateDir: string;
  /** Names of processes signalled and gone. */
  stopped: string[];
  /** Recorded but no longer running (already stopped, crashed, or a previous `down`). */
  alreadyGone: string[];
  /** The recorded pid runs something else now (recycled): not signalled. */
  leftAlone: string[];
  droppedDatabase?: string;
  /** Anything still alive or listening afterwards, or a step that failed. Empty means clean. */
  problems: string[];
  purged: boolean;
}

export interface StopOptions {
  /** Remove the state directory (logs included) after a clean stop. */
  purge?: boolean;
  /** Grace before SIGKILL for gateways (they drain first); default 10 s. */
  gatewayGraceMs?: number;
  /** Grace before SIGKILL for everything else; default 5 s. */
  graceMs?: number;
}

// Front to back: the autoscaler first (it starts and stops gateways), then scraping and routing,
// then the fleet, then what the fleet uses.
const ORDER: ProcessRole[][] = [['autoscaler'], ['prometheus'], ['haproxy', 'exporter'], ['gateway'], ['policy', 'upstreams'], ['redis', 'pglite']];

/** Stop a test bed given its state dir or id. Idempotent: a second call reports all gone. */
export async function stopTestbed(stateDirOrId: string, opts: StopOptions = {}): Promise<StopReport> {
  const stateDir = resolveStateDir(stateDirOrId);
  const state = readState(stateDir);
  const report: StopReport = { id: state.id, stateDir, stopped: [], alreadyGone: [], leftAlone: [], problems: [], purged: false };
  if (state.phase !== 'down') {
    state.phase = 'stopping';
    writeState(state);
  }

  for (const roles of ORDER) {
    // An autoscaler may have recorded a gateway it started after `state` was read: once it is
    // stopped, the state file holds every process there is.
    if (roles.includes('gateway')) state.processes = readState(stateDir).processes;
    const batch = state.processes.filter((p) => roles.includes(p.role));
    await Promise.all(batch.map((p) => stopOne(p, report, p.role === 'gateway' ? (opts.gatewayGraceMs ?? 10_000) : (opts.graceMs ?? 5_000))));
  }
  // Roles added later than this file still get stopped.
  const known = new Set(ORDER.flat());
  await Promise.all(state.processes.filter((p) => !known.has(p.role)).map((p) => stopOne(p, report, opts.graceMs ?? 5_000)));

  if (state.createdDatabase) {
    try {
      await dropDatabase(state.createdDatabase.adminUrl, state.createdDatabase.name);
      report.droppedDatabase = state.createdDatabase.name;
    } catch (err) {
      report.problems.push(`database ${state.createdDatabase.name} not dropped: ${redact((err as Error).message)}`);
    }
  }

  for (const sock of state.sockets) fs.rmSync(sock, { force: true });

  // Verify: nothing of ours runs, nothing of ours listens.
  for (const p of state.processes) {
    if (ownsRecord(p)) report.problems.push(`${p.name} (pid ${p.pid}) is still running`);
  }
  const ports = state.processes.flatMap((p) => p.ports.map((port) => ({ port, name: p.name })));
  const busy = await stillListening(ports);
  for (const b of busy) report.problems.push(`port ${b.port} (was ${b.name}) is still listening`);

  state.phase = 'down';
  state.stoppedAt = new Date().toISOString();
  writeState(state);
  unlinkFromRoot(state.id, stateDir);

  if (opts.purge && report.problems.length === 0) {
    fs.rmSync(stateDir, { recursive: true, force: true });
    report.purged = true;
  }
  return report;
}

async function stopOne(p: TestbedProcess, report: StopReport, graceMs: number): Promise<void> {
  if (!ownsRecord(p)) {
    // Alive but running something else is a recycled pid: never signal it.
    if (isAlive(p.pid)) report.leftAlone.push(`${p.name} (pid ${p.pid} now runs something else)`);
    else report.alreadyGone.push(p.name);
    return;
  }
  try {
    // A supervisor (OpenClaw's CLI) goes with its tree: the server and its spawn broker.
    if (p.serverComm === undefined) await stopProcess(p, graceMs);
    else await stopProcessTree(p, graceMs, 2_000);
    await killLeftovers(p.children ?? []);
    report.stopped.push(p.name);
  } catch (err) {
    report.problems.push(`${p.name} (pid ${p.pid}): ${(err as Error).message}`);
  }
}

/** Ports still accepting connections after a short grace (sockets close as processes exit). */
async function stillListening(ports: Array<{ port: number; name: string }>): Promise<Array<{ port: number; name: string }>> {
  const check = async () => {
    const r = await Promise.all(ports.map(async (p) => ((await isListening(p.port)) ? p : undefined)));
    return r.filter((x): x is { port: number; name: string } => x !== undefined);
  };
  try {
    await waitFor(async () => (await check()).length === 0, { timeoutMs: 3_000, intervalMs: 100, what: 'ports to close' });
    return [];
  } catch {
    return check();
  }
}

/** Stop every test bed under the state root (newest first). */
export async function stopAllTestbeds(opts: StopOptions = {}): Promise<StopReport[]> {
  const reports: StopReport[] = [];
  for (const t of listTestbeds()) reports.push(await stopTestbed(t.stateDir, opts));
  return reports;
}
