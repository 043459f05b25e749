// Client of HAProxy's runtime API (the admin socket): weights for canary ramps, drains, and
// every server's operational, administrative and check state.
//
//   await setWeight(lb, 'gw-1', 10);            // canary ramps
//   await setState(lb, 'gw-1', 'drain');        // drains
//   const servers = await showServersState(lb); // [{ name: 'gw-1', opState: 'UP', … }]
import net from 'node:net';
import { waitFor } from '../util/wait.ts';

/** A runtime API target: the test bed's `endpoints.haproxy` object is one. */
export interface RuntimeTarget {
  socket: string;
  backend: string;
}

/** Server names as HAProxy accepts them; anything else would change the command. */
const NAME = /^[A-Za-z0-9_.:-]+$/;

type TargetLike = RuntimeTarget | { haproxy: RuntimeTarget };

function target(t: TargetLike): RuntimeTarget {
  return 'haproxy' in t ? t.haproxy : t;
}

/** One command over the admin socket (non-interactive: HAProxy answers and closes). */
export async function runtimeCommand(socket: string, command: string, timeoutMs = 3_000): Promise<string> {
  if (command.includes('\n')) throw new Error('haproxy runtime command must be one line');
  return new Promise((resolve, reject) => {
    const sock = net.connect(socket);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    sock.setTimeout(timeoutMs, () => finish(new Error(`haproxy runtime socket ${socket}: no answer to "${command}" within ${timeoutMs} ms`)));
    sock.once('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.once('end', () => finish());
    sock.once('error', (e: NodeJS.ErrnoException) => finish(new Error(`haproxy runtime socket ${socket}: ${e.code ?? e.message}`)));
  });
}

async function setCommand(rt: RuntimeTarget, cmd: string): Promise<void> {
  const answer = (await runtimeCommand(rt.socket, cmd)).trim();
  // Successful `set server` commands answer nothing.
  if (answer.length > 0) throw new Error(`haproxy refused "${cmd}": ${answer.split('\n')[0]}`);
}

/** Weight 0–256 (0 takes the server out of rotation without marking it down). */
export async function setWeight(t: TargetLike, server: string, weight: number): Promise<void> {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new RangeError(`haproxy weight must be an integer 0–256 (got ${weight})`);
  if (!NAME.test(server)) throw new Error(`invalid server name ${JSON.stringify(server)}`);
  const rt = target(t);
  await setCommand(rt, `set server ${rt.backend}/${server} weight ${weight}`);
}

export type AdminState = 'ready' | 'drain' | 'maint';

export async function setState(t: TargetLike, server: string, state: AdminState): Promise<void> {
  if (!NAME.test(server)) throw new Error(`invalid server name ${JSON.stringify(server)}`);
  const rt = target(t);
  await setCommand(rt, `set server ${rt.backend}/${server} state ${state}`);
}

export type OpState = 'UP' | 'DOWN' | 'STARTING' | 'STOPPING';

export interface ServerState {
  name: string;
  addr: string;
  port: number;
  /** Operational state from health checks (`srv_op_state`): UP while checks pass. */
  opState: OpState;
  /** Administrative state set through the runtime API. */
  adminState: AdminState;
  /** Current (effective) weight. */
  weight: number;
  /** Initial weight from the config. */
  initialWeight: number;
  /** HAProxy's own status word (`show stat`): UP, DOWN, MAINT, DRAIN, NOLB, `UP 1/2`, `DOWN 1/2` … */
  status: string;
  /** Last health-check result, e.g. L7OK, L7STS, L4CON, L4TOUT. */
  checkStatus: string;
  /** Seconds since the last state change. */
  lastChangeSeconds: number;
  /** Sessions open on it now (`scur`): a drained server is empty before it is stopped. */
  sessions: number;
}

const OP_STATES: Record<string, OpState> = { '0': 'DOWN', '1': 'STARTING', '2': 'UP', '3': 'STOPPING' };
// srv_admin_state bits: FMAINT 0x01, IMAINT 0x02, CMAINT 0x04, FDRAIN 0x08, IDRAIN 0x10, RMAINT 0x20, HMAINT 0x40.
const MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_BITS = 0x08 | 0x10;

/** Parse `show servers state <backend>` (format version 1). */
export function parseServersState(text: string): Array<Omit<ServerState, 'status' | 'checkStatus' | 'sessions'>> {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`haproxy: unexpected "show servers state" answer: ${lines[0] ?? '(empty)'}`);
  const cols = header.slice(2).split(/\s+/);
  const idx = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`haproxy: "show servers state" has no column ${name}`);
    return i;
  };
  const [iName, iAddr, iPort, iOp, iAdmin, iUw, iIw, iTime] = [
    idx('srv_name'), idx('srv_addr'), idx('srv_port'), idx('srv_op_state'), idx('srv_admin_state'), idx('srv_uweight'), idx('srv_iweight'), idx('srv_time_since_last_change'),
  ];
  const out: Array<Omit<ServerState, 'status' | 'checkStatus' | 'sessions'>> = [];
  for (const line of lines) {
    if (line.startsWith('#') || /^\d+$/.test(line)) continue;
    const f = line.split(/\s+/);
    const admin = Number(f[iAdmin]);
    out.push({
      name: f[iName] ?? '',
      addr: f[iAddr] ?? '',
      port: Number(f[iPort]),
      opState: OP_STATES[f[iOp] ?? ''] ?? 'DOWN',
      adminState: admin & MAINT_BITS ? 'maint' : admin & DRAIN_BITS ? 'drain' : 'ready',
      weight: Number(f[iUw]),
      initialWeight: Number(f[iIw]),
      lastChangeSeconds: Number(f[iTime]),
    });
  }
  return out;
}

/** Parse the CSV of `show stat`: one record per row, keyed by the header's column names. */
export function parseStatCsv(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const header = lines[0];
  if (!header?.startsWith('# ')) throw new Error(`haproxy: unexpected "show stat" answer: ${header ?? '(empty)'}`);
  const cols = header.slice(2).split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => {
      if (c) row[c] = f[i] ?? '';
    });
    return row;
  });
}

/** Every server of the backend with its operational, administrative and check state. */
export async function showServersState(t: TargetLike): Promise<ServerState[]> {
  const rt = target(t);
  const [state, stat] = await Promise.all([
    runtimeCommand(rt.socket, `show servers state ${rt.backend}`),
    runtimeCommand(rt.socket, `show stat ${rt.backend} 4 -1`),
  ]);
  const rows = new Map(parseStatCsv(stat).map((r) => [r.svname ?? '', r]));
  return parseServersState(state).map((s) => ({
    ...s,
    status: rows.get(s.name)?.status ?? '',
    checkStatus: rows.get(s.name)?.check_status ?? '',
    sessions: Number(rows.get(s.name)?.scur ?? 0) || 0,
  }));
}

/** Wait until `server` reaches `opState` (bounded); resolves with its state and the time taken. */
export async function waitServerState(
  t: TargetLike,
  server: string,
  opState: OpState,
  timeoutMs = 15_000,
): Promise<{ state: ServerState; ms: number }> {
  const t0 = Date.now();
  let last = 'unknown';
  try {
    const state = await waitFor(
      async () => {
        const s = (await showServersState(t)).find((x) => x.name === server);
        if (!s) throw new Error(`no server ${server} in the backend`);
        last = `${s.status} (check ${s.checkStatus})`;
        return s.opState === opState ? s : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `haproxy server ${server} to be ${opState}` },
    );
    return { state, ms: Date.now() - t0 };
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen ${last}`);
  }
}

// ── servers added and removed at run time ─────────────────────────────────────
//
// A scaling test bed adds gateways to the backend and removes them while traffic flows. HAProxy 2.6
// offers two ways: servers declared up front as disabled slots whose address is set later, or
// dynamic servers (`add server` / `del server`). Dynamic servers are used: the backend holds exactly
// the gateways that exist, under their own names (`gw-4`), with no slot count to guess and no
// placeholder address that a health check could reach by accident. A dynamic server inherits the
// backend's `option httpchk` and `http-check` rules, so it is checked like the configured ones; it
// starts in maintenance and is enabled once added. HAProxy refuses `del server` while sessions are
// open, so removal drains, shuts what is left, then deletes.

export interface DynamicServer {
  name: string;
  host?: string;
  port: number;
  weight?: number;
  /** Check interval etc. as the configured servers have them. */
  check?: { inter: string; fall: number; rise: number };
}

async function answerCommand(rt: RuntimeTarget, cmd: string, ok: RegExp): Promise<void> {
  const answer = (await runtimeCommand(rt.socket, cmd)).trim();
  if (answer.length > 0 && !ok.test(answer)) throw new Error(`haproxy refused "${cmd}": ${answer.split('\n')[0]}`);
}

/** Add a server to the backend, checked like the others, and put it in rotation (its check decides UP). */
export async function addServer(t: TargetLike, s: DynamicServer): Promise<void> {
  if (!NAME.test(s.name)) throw new Error(`invalid server name ${JSON.stringify(s.name)}`);
  const host = s.host ?? '127.0.0.1';
  if (!/^[0-9.]+$/.test(host) || !Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw new Error(`invalid server address ${host}:${s.port}`);
  const rt = target(t);
  const c = s.check ?? { inter: '1s', fall: 2, rise: 2 };
  await answerCommand(rt, `add server ${rt.backend}/${s.name} ${host}:${s.port} check weight ${s.weight ?? 100} inter ${c.inter} fall ${c.fall} rise ${c.rise}`, /^New server registered\.?$/);
  await setCommand(rt, `enable health ${rt.backend}/${s.name}`);
  await setCommand(rt, `enable server ${rt.backend}/${s.name}`);
}

/** Remove a server: maintenance, close what is still open on it, delete. */
export async function deleteServer(t: TargetLike, name: string): Promise<void> {
  if (!NAME.test(name)) throw new Error(`invalid server name ${JSON.stringify(name)}`);
  const rt = target(t);
  await setCommand(rt, `set server ${rt.backend}/${name} state maint`);
  await setCommand(rt, `shutdown sessions server ${rt.backend}/${name}`);
  // Sessions close asynchronously; `del server` is refused until they have.
  await waitFor(
    async () => {
      const answer = (await runtimeCommand(rt.socket, `del server ${rt.backend}/${name}`)).trim();
      if (/^Server deleted\.?$/.test(answer)) return true;
      if (/No such server/i.test(answer)) return true;
      throw new Error(answer.split('\n')[0]);
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `haproxy to delete server ${name}` },
  );
}
