// `clawstorm testbed up`: the whole local test bed on free loopback ports. This file orchestrates:
// it checks the binaries, picks the audit database (database.ts), prepares the state directory
// (state-dir.ts), starts the reference fleet (reference-fleet.ts) or a bed of real OpenClaw
// gateways (openclaw.ts), and on failure or interruption cleans up with `down`.
// Every pid goes into the state file the moment it exists, so a failed or interrupted `up` is
// cleaned by `down` (which `up` itself runs on failure).
import path from 'node:path';
import { requireBinary } from '../util/proc.ts';
import { redact } from '../util/redact.ts';
import { checkDatabaseUrl, chooseDatabaseServer } from './database.ts';
import { stopTestbed } from './down.ts';
import { bringUpOpenClaw } from './openclaw.ts';
import { bringUpReference } from './reference-fleet.ts';
import { startupKit, type ProgressEvent } from './startup.ts';
import { prepareStateDir } from './state-dir.ts';
import { linkIntoRoot, newTestbedId, readState, stateRoot, writeState, type TestbedState } from './state.ts';
import type { AnyTestbedEndpoints, OpenClawEndpoints, TestbedEndpoints, TestbedKind } from './types.ts';

export type { ProgressEvent } from './startup.ts';

export interface StartTestbedOptions {
  /** Which gateways: the reference fleet (default) or real OpenClaw gateways (npm `openclaw`). */
  gateways?: TestbedKind;
  /** Gateways (each with its policy sidecar); default 3 (2 for real OpenClaw gateways: a pair). */
  replicas?: number;
  /** Exact directory for this bed; default `<state root>/<id>`. */
  stateDir?: string;
  /**
   * A loopback PostgreSQL to create the bed's database on; default env DATABASE_URL, else a
   * PostgreSQL answering at postgres://postgres@127.0.0.1:5432 (trust auth), else PGlite.
   */
  databaseUrl?: string;
  /** Use the embedded PGlite store even when a PostgreSQL server is reachable (env CLAWSTORM_DATABASE=pglite). */
  pglite?: boolean;
  /** Progress lines as JSON objects (`onProgress` receives the JSON text). */
  json?: boolean;
  onProgress?: (line: string, event: ProgressEvent) => void;
  /** Aborting stops the start-up between steps and cleans up like a failure. */
  signal?: AbortSignal;
  /** Leave what started running when `up` fails (debugging); default false: clean up. */
  keepOnFailure?: boolean;
  /** Per process health deadline; default 30 s. */
  healthTimeoutMs?: number;
  /** Deadline for every Prometheus target to be up; default 60 s. */
  targetsTimeoutMs?: number;
  /** Tenant of gateways and sidecars; default `acme`. */
  tenantId?: string;
}

export async function startTestbed(opts: StartTestbedOptions & { gateways: 'openclaw' }): Promise<OpenClawEndpoints>;
export async function startTestbed(opts?: StartTestbedOptions & { gateways?: 'reference' }): Promise<TestbedEndpoints>;
export async function startTestbed(opts?: StartTestbedOptions): Promise<AnyTestbedEndpoints>;
export async function startTestbed(opts: StartTestbedOptions = {}): Promise<AnyTestbedEndpoints> {
  const kind = opts.gateways ?? 'reference';
  const replicas = opts.replicas ?? (kind === 'openclaw' ? 2 : 3);
  const maxReplicas = kind === 'openclaw' ? 8 : 32;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > maxReplicas) {
    throw new RangeError(`replicas must be an integer 1–${maxReplicas} (got ${replicas})`);
  }
  // Hard requirements first, before anything starts: one line naming the Debian package.
  if (kind === 'reference') requireBinary('redis-server', 'redis-server', 'REDIS_SERVER_BIN');
  requireBinary('haproxy', 'haproxy', 'HAPROXY_BIN');
  requireBinary('prometheus', 'prometheus', 'PROMETHEUS_BIN');
  if (kind === 'openclaw') requireBinary('prometheus-blackbox-exporter', 'prometheus-blackbox-exporter', 'BLACKBOX_EXPORTER_BIN');
  const databaseUrl = kind === 'openclaw' ? undefined : (opts.databaseUrl ?? process.env.DATABASE_URL ?? undefined);
  if (databaseUrl) checkDatabaseUrl(databaseUrl);
  const serverUrl = kind === 'openclaw' ? undefined : await chooseDatabaseServer(databaseUrl, opts.pglite ?? process.env.CLAWSTORM_DATABASE === 'pglite');
  if (serverUrl !== undefined) checkDatabaseUrl(serverUrl);

  const id = newTestbedId();
  const stateDir = path.resolve(opts.stateDir ?? path.join(stateRoot(), id));
  prepareStateDir(stateDir);

  const state: TestbedState = {
    version: 1,
    id,
    stateDir,
    startedAt: new Date().toISOString(),
    phase: 'starting',
    processes: [],
    sockets: [],
    notes: [],
  };
  writeState(state);
  linkIntoRoot(id, stateDir);

  // One abort for the whole start-up: the first failing part (or Ctrl-C) calls off the others,
  // and cleanup waits until every part in flight has settled, so nothing spawns after `down`.
  const ctl = new AbortController();
  const onUserAbort = () => ctl.abort(opts.signal?.reason ?? new Error('start-up aborted'));
  if (opts.signal?.aborted) onUserAbort();
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  const inflight = new Set<Promise<unknown>>();
  try {
    const endpoints: AnyTestbedEndpoints =
      kind === 'openclaw'
        ? await bringUpOpenClaw(state, startupKit(state, opts, ctl, inflight), { replicas, ...(opts.healthTimeoutMs === undefined ? {} : { readyTimeoutMs: Math.max(opts.healthTimeoutMs, 60_000) }), ...(opts.targetsTimeoutMs === undefined ? {} : { targetsTimeoutMs: opts.targetsTimeoutMs }) }, ctl.signal)
        : await bringUpReference(state, replicas, { ...opts, databaseUrl: serverUrl }, ctl, inflight);
    state.endpoints = endpoints;
    state.phase = 'up';
    writeState(state);
    return endpoints;
  } catch (err) {
    if (!ctl.signal.aborted) ctl.abort(err);
    await Promise.allSettled([...inflight]);
    const cause = opts.signal?.aborted ? (opts.signal.reason as Error) : err;
    state.phase = 'failed';
    state.error = redact((cause as Error).message);
    writeState(state);
    if (!opts.keepOnFailure) {
      await stopTestbed(stateDir).catch(() => {});
      // Keep the failure visible to `status`.
      try {
        const after = readState(stateDir);
        after.error = state.error;
        writeState(after);
      } catch {
        // state dir gone
      }
    }
    throw cause;
  } finally {
    opts.signal?.removeEventListener('abort', onUserAbort);
  }
}
