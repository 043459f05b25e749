// The bookkeeping every kind of bed start-up shares: progress lines, process records written to
// the state file the moment a pid exists, notes, and `step()` (one tracked part: a failure aborts
// the rest, and cleanup waits for every part in flight).
import os from 'node:os';
import path from 'node:path';
import type { ExporterInstance, ExporterResult } from '../../harness/launch/exporters.ts';
import { startHaproxy, type HaproxyInstance, type StartHaproxyOptions } from '../../harness/launch/haproxy.ts';
import type { PrometheusInstance, ScrapeJob } from '../../harness/launch/prometheus.ts';
import { waitForTargetsUp } from '../prom/targets.ts';
import type { StartedProcess } from '../util/proc.ts';
import { redact } from '../util/redact.ts';
import { waitFor } from '../util/wait.ts';
import { showServersState, type ServerState } from '../lb/runtime.ts';
import { writeState, type ProcessRole, type TestbedProcess, type TestbedState } from './state.ts';

export interface ProgressEvent {
  /** What was being started: `redis`, `gw-2`, `prometheus targets` … */
  step: string;
  status: 'ok' | 'skipped' | 'failed' | 'cancelled' | 'info';
  detail?: string;
  ms?: number;
}

export interface KitOptions {
  json?: boolean;
  onProgress?: (line: string, event: ProgressEvent) => void;
}

export interface StartupKit {
  progress(ev: ProgressEvent): void;
  record(role: ProcessRole, p: StartedProcess, extra?: Partial<TestbedProcess>): void;
  /** Replace the record of a process that was restarted on a new port. */
  forget(pid: number): void;
  note(text: string): void;
  step<T>(name: string, fn: () => Promise<T>, detail: (v: T) => string | { skipped: string }): Promise<T>;
}

export function startupKit(state: TestbedState, opts: KitOptions, ctl: AbortController, inflight: Set<Promise<unknown>>): StartupKit {
  const signal = ctl.signal;
  const checkAbort = () => signal.throwIfAborted();
const progress = (ev: ProgressEvent) => {
  if (!opts.onProgress) return;
  const line = opts.json
    ? JSON.stringify({ t: new Date().toISOString(), ...ev })
    : ev.status === 'info'
      ? ev.step
      : `starting ${ev.step}… ${ev.status}${detailOf(ev)}`;
  opts.onProgress(line, ev);
};
const record = (role: ProcessRole, p: StartedProcess, extra: Partial<TestbedProcess> = {}) => {
  state.processes.push({
    name: p.name,
    pid: p.pid,
    command: p.command,
    args: p.args,
    logFile: p.logFile,
    role,
    ports: [],
    startedAt: new Date().toISOString(),
    ...extra,
  });
  writeState(state);
};
/** Replace the record of a process that was restarted on a new port. */
const forget = (pid: number) => {
  state.processes = state.processes.filter((x) => x.pid !== pid);
  writeState(state);
};
const note = (text: string) => {
  state.notes.push(text);
  writeState(state);
};
/** One tracked part of the start-up: progress line, fail-fast abort, in-flight bookkeeping. */
function step<T>(name: string, fn: () => Promise<T>, detail: (v: T) => string | { skipped: string }): Promise<T> {
  const run = (async () => {
    checkAbort();
    const t0 = Date.now();
    try {
      const v = await fn();
      const d = detail(v);
      if (typeof d === 'string') progress({ step: name, status: 'ok', detail: d, ms: Date.now() - t0 });
      else progress({ step: name, status: 'skipped', detail: d.skipped });
      return v;
    } catch (err) {
      if (signal.aborted) {
        progress({ step: name, status: 'cancelled', ms: Date.now() - t0 });
      } else {
        ctl.abort(err);
        progress({ step: name, status: 'failed', detail: redact((err as Error).message.split('\n')[0] ?? ''), ms: Date.now() - t0 });
      }
      throw err;
    }
  })();
  inflight.add(run);
  run.then(
    () => inflight.delete(run),
    () => inflight.delete(run),
  );
  return run;
}

  return { progress, record, forget, note, step };
}

export function detailOf(ev: ProgressEvent): string {
  const parts = [ev.detail, ev.ms !== undefined ? `${ev.ms} ms` : undefined].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function hostPort(url: string): string {
  return new URL(url).host;
}

/** Complete a record once the process is up (its ports and health URL are known then). */
export function patchRecord(state: TestbedState, name: string, patch: Partial<Pick<TestbedProcess, 'ports' | 'healthUrl' | 'children'>>): void {
  const p = state.processes.find((x) => x.name === name);
  if (p) {
    Object.assign(p, patch);
    writeState(state);
  }
}

/** Wait until HAProxy has every named server UP on a passed check (L7OK). */
export async function waitAllServersUp(rt: { socket: string; backend: string }, names: string[], timeoutMs: number): Promise<ServerState[]> {
  let last: ServerState[] = [];
  try {
    return await waitFor(
      async () => {
        last = await showServersState(rt);
        const good = names.every((n) => last.some((s) => s.name === n && s.opState === 'UP' && s.checkStatus === 'L7OK'));
        return good ? last : undefined;
      },
      { timeoutMs, intervalMs: 200, what: 'HAProxy to see every gateway pass its health check' },
    );
  } catch (err) {
    const bad = names
      .map((n) => last.find((s) => s.name === n))
      .filter((s): s is ServerState => s !== undefined && !(s.opState === 'UP' && s.checkStatus === 'L7OK'))
      .map((s) => `${s.name} ${s.status} (check ${s.checkStatus})`);
    throw new Error(`${(err as Error).message}; not passing: ${bad.join(', ') || 'no answer from the runtime socket'}`);
  }
}

/** HAProxy in front of a bed's gateways, as one step: its socket and process go into the state. */
export function haproxyStep(
  state: TestbedState,
  kit: StartupKit,
  o: Pick<StartHaproxyOptions, 'servers' | 'probeToken' | 'probePath' | 'forwardFor'>,
  signal: AbortSignal,
): Promise<HaproxyInstance> {
  const dir = path.join(state.stateDir, 'haproxy');
  return kit.step(
    'haproxy',
    async () => {
      // Unix socket paths are short (108 bytes); a deep state dir falls back to the temp dir.
      const inDir = path.join(dir, 'haproxy.sock');
      const socket = Buffer.byteLength(inDir) <= 100 ? inDir : path.join(os.tmpdir(), `clawstorm-${state.id}.sock`);
      state.sockets.push(socket);
      writeState(state);
      const h = await startHaproxy({ ...o, dir, socket, onSpawn: (p) => kit.record('haproxy', p, { configFile: path.join(dir, 'haproxy.cfg') }), signal });
      patchRecord(state, 'haproxy', { ports: [h.frontendPort, h.statsPort], healthUrl: h.metricsUrl });
      return h;
    },
    (h) => `lb port ${h.frontendPort}, stats port ${h.statsPort}${o.probePath ? `, checks GET ${o.probePath}` : ''}`,
  );
}

/**
 * One exporter as a step. A missing binary is a note (the bed works without it) unless it is
 * `required` (then the start-up fails with the note, which names the Debian package).
 */
export async function exporterStep(state: TestbedState, kit: StartupKit, job: string, fn: () => Promise<ExporterResult>, required = false): Promise<ExporterInstance | undefined> {
  const r = await kit.step(
    `${job} exporter`,
    async () => {
      const res = await fn();
      if (!res.ok) {
        if (required) throw new Error(res.skipped.note);
        kit.note(res.skipped.note);
      } else patchRecord(state, res.exporter.name, { ports: [res.exporter.port], healthUrl: res.exporter.url });
      return res;
    },
    (res) => (res.ok ? `port ${res.exporter.port}` : { skipped: res.skipped.note }),
  );
  return r.ok ? r.exporter : undefined;
}

/** The last step of every bed: Prometheus has scraped every job's targets successfully. */
export function targetsStep(kit: StartupKit, prom: Pick<PrometheusInstance, 'url'>, jobs: readonly ScrapeJob[], timeoutMs = 60_000): Promise<void> {
  return kit.step(
    'prometheus targets',
    () => waitForTargetsUp(prom.url, { jobs: jobs.map((j) => j.name), timeoutMs }),
    () => `${jobs.map((j) => j.name).join(', ')} all up`,
  );
}

/** The endpoint fields every kind of bed has (the gateways aside). */
export function commonEndpoints(state: TestbedState, lb: HaproxyInstance, prom: Pick<PrometheusInstance, 'url'>) {
  return {
    id: state.id,
    stateDir: state.stateDir,
    startedAt: state.startedAt,
    lb: { url: lb.url },
    haproxy: { statsUrl: lb.statsUrl, metricsUrl: lb.metricsUrl, socket: lb.socket, backend: lb.backend },
    prometheus: { url: prom.url },
  };
}
