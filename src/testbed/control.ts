// What tests and the chaos engine use to act on a running test bed: stop/hang/continue/start a
// gateway or sidecar, read a token, steer HAProxy. Every function takes the bed as a state dir,
// an id, or anything with a `stateDir` (the endpoints `inject('testbed')` gives are one), and
// re-reads the state file, so several callers see each other's restarts.
import fs from 'node:fs';
import { isListening } from '../util/ports.ts';
import { descendants, isAlive, isNamed, killLeftovers } from '../util/proc.ts';
import { waitFor } from '../util/wait.ts';
import { readState, resolveStateDir, updateState, type TestbedProcess, type TestbedState } from './state.ts';
import { httpOk, launch, ownsRecord, procState } from '../util/supervise.ts';
import { readTokenFile, type TokenKind } from './tokens.ts';
import type { AnyTestbedEndpoints } from './types.ts';
import { REPO_ROOT } from './paths.ts';

export type TestbedRef = string | { stateDir: string };

export interface LoadedTestbed {
  stateDir: string;
  endpoints: AnyTestbedEndpoints;
  processes: TestbedProcess[];
  state: TestbedState;
}

function dirOf(ref: TestbedRef): string {
  return typeof ref === 'string' ? resolveStateDir(ref) : ref.stateDir;
}

/** Endpoints and process records of a bed that finished `up`. */
export function loadTestbed(ref: TestbedRef): LoadedTestbed {
  const stateDir = dirOf(ref);
  const state = readState(stateDir);
  if (!state.endpoints) throw new Error(`test bed ${state.id} (${stateDir}) is ${state.phase}: it has no endpoints`);
  return { stateDir, endpoints: state.endpoints, processes: state.processes, state };
}

export function readToken(ref: TestbedRef, kind: TokenKind): string {
  const files: Partial<Record<TokenKind, string>> = loadTestbed(ref).endpoints.tokenFiles;
  const file = files[kind];
  if (file === undefined) throw new Error(`this test bed has no ${kind} token`);
  return readTokenFile(file);
}

export type StopSignal = 'SIGTERM' | 'SIGKILL' | 'SIGSTOP';

export interface StopResult {
  name: string;
  pid: number;
  signal: StopSignal;
  /** It ran (our command) when the signal was sent. */
  wasRunning: boolean;
  /** SIGTERM/SIGKILL: it exited; SIGSTOP: it is stopped. */
  done: boolean;
  /** SIGTERM did not end it within the deadline, so it got SIGKILL. */
  escalated: boolean;
  ms: number;
}

export interface StopOptions {
  /** SIGTERM: time allowed to drain and exit before SIGKILL; default 15 s. */
  timeoutMs?: number;
}

function findProcess(stateDir: string, name: string, role: 'gateway' | 'policy'): TestbedProcess {
  const state = readState(stateDir);
  let p = state.processes.find((x) => x.role === role && x.name === name);
  if (!p && role === 'policy') {
    // A sidecar may be named by the gateway it serves.
    const policy = (state.endpoints?.kind === 'openclaw' ? undefined : state.endpoints)?.policies.find((x) => x.gateway === name);
    if (policy) p = state.processes.find((x) => x.role === 'policy' && x.name === policy.id);
  }
  if (!p) {
    const known = state.processes.filter((x) => x.role === role).map((x) => x.name);
    throw new Error(`test bed ${state.id} has no ${role} ${JSON.stringify(name)} (has: ${known.join(', ') || 'none'})`);
  }
  return p;
}

function send(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
}

/**
 * The pid that serves: the recorded process, or (for a supervisor that forks its server, like the
 * OpenClaw CLI) its descendant named `serverComm`. Killing only the supervisor would leave the
 * server running; hanging only the supervisor would hang nothing.
 */
function servingPid(p: TestbedProcess): number {
  if (p.serverComm === undefined) return p.pid;
  const name = p.serverComm;
  const child = descendants(p.pid).find((d) => isNamed(d.pid, name));
  return child?.pid ?? p.pid;
}

async function stopRecorded(p: TestbedProcess, signal: StopSignal, opts: StopOptions): Promise<StopResult> {
  const t0 = Date.now();
  const base = { name: p.name, pid: p.pid, signal };
  if (!ownsRecord(p)) return { ...base, wasRunning: false, done: true, escalated: false, ms: 0 };
  const server = servingPid(p);
  if (signal === 'SIGSTOP') {
    send(server, 'SIGSTOP');
    await waitFor(() => procState(server) === 'T' || procState(server) === 't' || !isAlive(server), { timeoutMs: 2_000, intervalMs: 10, what: `${p.name} to stop` });
    return { ...base, wasRunning: true, done: true, escalated: false, ms: Date.now() - t0 };
  }
  // Everything the process started, remembered now: a crash leaves no orphans behind to trip the restart.
  const tree = p.serverComm === undefined ? [] : descendants(p.pid);
  // SIGKILL hits the server (a crash); SIGTERM goes to the top, which forwards it and drains.
  const first = signal === 'SIGKILL' ? server : p.pid;
  send(first, signal);
  // A hung (SIGSTOPped) process acts on the signal only once continued.
  send(server, 'SIGCONT');
  send(p.pid, 'SIGCONT');
  const deadline = signal === 'SIGKILL' ? 5_000 : (opts.timeoutMs ?? 15_000);
  try {
    await waitFor(() => !isAlive(p.pid) && !isAlive(server), { timeoutMs: deadline, intervalMs: 20, what: `${p.name} (pid ${p.pid}) to exit after ${signal}` });
    await killLeftovers(tree);
    return { ...base, wasRunning: true, done: true, escalated: false, ms: Date.now() - t0 };
  } catch (err) {
    if (signal === 'SIGKILL' && p.serverComm === undefined) throw err;
    send(server, 'SIGKILL');
    send(p.pid, 'SIGKILL');
    await waitFor(() => !isAlive(p.pid) && !isAlive(server), { timeoutMs: 5_000, intervalMs: 20, what: `${p.name} (pid ${p.pid}) to die` });
    await killLeftovers(tree);
    return { ...base, wasRunning: true, done: true, escalated: signal !== 'SIGKILL', ms: Date.now() - t0 };
  }
}

async function continueRecorded(p: TestbedProcess): Promise<boolean> {
  if (!ownsRecord(p)) return false;
  const server = servingPid(p);
  send(server, 'SIGCONT');
  send(p.pid, 'SIGCONT');
  await waitFor(() => procState(server) !== 'T' && procState(server) !== 't', { timeoutMs: 2_000, intervalMs: 10, what: `${p.name} to continue` });
  return true;
}

export interface StartResult {
  name: string;
  pid: number;
  /** false: it was already running (continued if it was hung); true: a new process. */
  started: boolean;
  /** Until the health URL answered 200. */
  ms: number;
}

async function startRecorded(stateDir: string, p: TestbedProcess, timeoutMs: number): Promise<StartResult> {
  const t0 = Date.now();
  const healthUrl = p.healthUrl;
  if (!healthUrl) throw new Error(`${p.name}: no health URL recorded`);
  if (ownsRecord(p)) {
    await continueRecorded(p);
    await waitFor(() => httpOk(healthUrl, 1_000), { timeoutMs, intervalMs: 100, what: `${p.name} at ${healthUrl} to be healthy` });
    return { name: p.name, pid: p.pid, started: false, ms: Date.now() - t0 };
  }
  // Same config file, same port: the load balancer and Prometheus find it where it was.
  for (const port of p.ports) {
    const busy = await waitFor(async () => !(await isListening(port)), { timeoutMs: 5_000, intervalMs: 50, what: `port ${port} to be free` }).then(
      () => false,
      () => true,
    );
    if (busy) throw new Error(`${p.name}: port ${port} is taken by another process; cannot restart it there`);
  }
  await killLeftovers(p.children ?? []);
  fs.appendFileSync(p.logFile, `--- clawstorm: restarting ${p.name} at ${new Date().toISOString()}\n`);
  const started = await launch({
    name: p.name,
    command: p.command,
    args: p.args,
    logFile: p.logFile,
    cwd: p.cwd ?? REPO_ROOT,
    ...(p.env === undefined ? {} : { env: p.env }),
    ready: () => httpOk(healthUrl, 1_000),
    readyWhat: `GET ${healthUrl} → 200`,
    timeoutMs,
    onSpawn: (np) =>
      updateState(stateDir, (s) => {
        const rec = s.processes.find((x) => x.name === p.name && x.role === p.role);
        if (rec) {
          rec.pid = np.pid;
          rec.startedAt = new Date().toISOString();
        }
      }),
  });
  if (p.serverComm !== undefined) {
    const children = descendants(started.pid);
    updateState(stateDir, (s) => {
      const rec = s.processes.find((x) => x.name === p.name && x.role === p.role);
      if (rec) rec.children = children;
    });
  }
  return { name: p.name, pid: started.pid, started: true, ms: Date.now() - t0 };
}

// ── gateways ─────────────────────────────────────────────────────────────────

/** SIGTERM (drain, then exit; SIGKILL after the deadline), SIGKILL (crash) or SIGSTOP (hang). */
export async function stopGateway(tb: TestbedRef, id: string, signal: StopSignal = 'SIGTERM', opts: StopOptions = {}): Promise<StopResult> {
  return stopRecorded(findProcess(dirOf(tb), id, 'gateway'), signal, opts);
}

/** SIGCONT a hung gateway; false when it is not running. */
export async function continueGateway(tb: TestbedRef, id: string): Promise<boolean> {
  return continueRecorded(findProcess(dirOf(tb), id, 'gateway'));
}

/** Start it again with the same config and port and wait until `/healthz` answers 200. */
export async function startGateway(tb: TestbedRef, id: string, opts: { timeoutMs?: number } = {}): Promise<StartResult> {
  const dir = dirOf(tb);
  return startRecorded(dir, findProcess(dir, id, 'gateway'), opts.timeoutMs ?? 30_000);
}

export async function restartGateway(
  tb: TestbedRef,
  id: string,
  opts: { signal?: 'SIGTERM' | 'SIGKILL'; timeoutMs?: number } = {},
): Promise<{ stop: StopResult; start: StartResult }> {
  const stop = await stopGateway(tb, id, opts.signal ?? 'SIGTERM');
  const start = await startGateway(tb, id, { timeoutMs: opts.timeoutMs });
  return { stop, start };
}

// ── policy sidecars (by sidecar id `policy-1` or by gateway id `gw-1`) ─────────

export async function stopSidecar(tb: TestbedRef, id: string, signal: StopSignal = 'SIGTERM', opts: StopOptions = {}): Promise<StopResult> {
  return stopRecorded(findProcess(dirOf(tb), id, 'policy'), signal, opts);
}

export async function continueSidecar(tb: TestbedRef, id: string): Promise<boolean> {
  return continueRecorded(findProcess(dirOf(tb), id, 'policy'));
}

export async function startSidecar(tb: TestbedRef, id: string, opts: { timeoutMs?: number } = {}): Promise<StartResult> {
  const dir = dirOf(tb);
  return startRecorded(dir, findProcess(dir, id, 'policy'), opts.timeoutMs ?? 30_000);
}

export async function restartSidecar(
  tb: TestbedRef,
  id: string,
  opts: { signal?: 'SIGTERM' | 'SIGKILL'; timeoutMs?: number } = {},
): Promise<{ stop: StopResult; start: StartResult }> {
  const stop = await stopSidecar(tb, id, opts.signal ?? 'SIGTERM');
  const start = await startSidecar(tb, id, { timeoutMs: opts.timeoutMs });
  return { stop, start };
}

/** The current pid of a gateway or sidecar (after restarts), or undefined when not running. */
export function processPid(tb: TestbedRef, name: string): number | undefined {
  const p = readState(dirOf(tb)).processes.find((x) => x.name === name);
  return p && ownsRecord(p) ? p.pid : undefined;
}
