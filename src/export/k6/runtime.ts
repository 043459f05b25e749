// The runtime every exported k6 script imports (written beside them as RUNTIME_FILE). It is k6
// code, not Node code: it is kept here as text because this project is compiled against Node's
// types and must not pull k6's globals into it; the export test compiles it, with the scripts,
// against @types/k6 alone.
//
// It does per request what ClawStorm's load engine does (src/gate/journey.ts, src/gate/ws-step.ts,
// src/load/drivers/ws.ts): the same headers, bearer tokens, request ids and idempotency keys, the
// same gateway WebSocket protocol (challenge → connect → hello-ok, req/res RPCs), and one tag set
// per sample — step, kind and call — so thresholds and the central judge select the same samples
// in both tools.

export const RUNTIME_FILE = 'clawstorm-runtime.ts';

/** Tags every ClawStorm sample carries in k6 (also the label names of the remote-written series). */
export const SAMPLE_TAGS = { step: 'step', kind: 'kind', call: 'call' } as const;

/**
 * k6 metrics of WebSocket steps (k6 does not time individual messages itself): a time Trend, a
 * Rate for k6's own thresholds, and a Counter tagged ok=true|false, because a remote-written Rate
 * is each runner's ratio and ratios of runners cannot be added up — counts can.
 */
export const WS_METRICS = { duration: 'clawstorm_ws_duration', failed: 'clawstorm_ws_failed', samples: 'clawstorm_ws_samples' } as const;

/** Environment variables the scripts read. */
export const ENV = { baseUrl: 'CLAWSTORM_BASE_URL', runId: 'CLAWSTORM_RUN_ID' } as const;

export const RUNTIME_SOURCE = `// ClawStorm runtime for exported k6 scripts. Written by \`clawstorm export k6\`: do not edit, export again.
//
// Every request carries what ClawStorm's own engine sends: x-request-id, x-user-id, x-tenant-id
// (multi-tenant scenarios), the bearer token of the step, and the step's own headers (idempotency
// keys rendered per iteration). Every sample is tagged step / kind / call, like ClawStorm's samples.
import http from 'k6/http';
import type { RefinedResponse, ResponseType } from 'k6/http';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';
import type { MessageEvent } from 'k6/websockets';
import { clearTimeout, setTimeout } from 'k6/timers';
import type { TimeoutID } from 'k6/timers';
import { randomBytes } from 'k6/crypto';

/** Template variables of one iteration, plus values captured by earlier steps. */
export interface Vars {
  vu: number;
  iteration: number;
  user: string;
  tenant: string;
  run: string;
  uuid: string;
  now: string;
  nowMs: number;
  [captured: string]: string | number | undefined;
}

/** A required environment variable; a missing one stops the test at start-up with its name. */
export function env(name: string, what: string): string {
  const v = __ENV[name];
  if (v === undefined || v.trim() === '') throw new Error(name + ' is not set: ' + what);
  return v.trim();
}

/** Where load goes: ${ENV.baseUrl}, else the target's load balancer as exported. */
export function baseUrl(exported: string): string {
  const v = __ENV['${ENV.baseUrl}'];
  return (v === undefined || v.trim() === '' ? exported : v.trim()).replace(/\\/+$/, '');
}

/** A ws step's URL: its path on the base URL's host, http→ws and https→wss (as ClawStorm). */
export function wsUrl(base: string, path: string): string {
  const m = /^(https?):\\/\\/([^/?#]+)/i.exec(base);
  if (m === null) throw new Error('base URL ' + base + ' is not an http(s) URL');
  return ((m[1] as string).toLowerCase() === 'https' ? 'wss' : 'ws') + '://' + (m[2] as string) + path;
}

/**
 * The iteration's variables. VU ids and iteration numbers are k6's run-wide ones, unique over
 * all runners of a distributed run, so users, request ids and idempotency keys never collide.
 */
export function iterationVars(run: string, tenants: number | undefined): Vars {
  const vu = exec.vu.idInTest;
  const iteration = exec.scenario.iterationInTest;
  return {
    vu,
    iteration,
    user: 'u-' + vu,
    tenant: tenants === undefined ? '' : 't-' + (vu % tenants),
    run,
    uuid: uuid(),
    now: new Date().toISOString(),
    nowMs: Date.now(),
  };
}

/** A random (version 4) UUID. */
export function uuid(): string {
  const b = new Uint8Array(randomBytes(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

/** A value captured by an earlier step; its absence fails the iteration, as in ClawStorm. */
export function need(v: Vars, name: string, step: string): string | number {
  const x = v[name];
  if (x === undefined) throw new Error(step + ': {{' + name + '}} was not captured by an earlier step of this iteration');
  return x;
}

/** Value at a dotted path of a parsed JSON answer. */
function pick(body: unknown, at: string): unknown {
  let cur = body;
  for (const k of at.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Keep values of an answer for later steps: a string or number is kept, anything else forgotten. */
export function capture(v: Vars, body: unknown, what: Record<string, string>): void {
  for (const [name, at] of Object.entries(what)) {
    const x = pick(body, at);
    if (typeof x === 'string' || typeof x === 'number') v[name] = x;
    else delete v[name];
  }
}

export interface HttpCall {
  method: string;
  /** Rendered path (with query), appended to the base URL. */
  path: string;
  /** Rendered body: a string goes as it is, anything else as JSON. */
  body?: unknown;
  headers: Record<string, string>;
  tags: Record<string, string>;
  timeout: string;
  /** Statuses that count as success: http_req_failed follows them. */
  expect: ReturnType<typeof http.expectedStatuses>;
}

/** One HTTP step; resolves with the answer (parsed when it is JSON). */
export async function request(base: string, c: HttpCall): Promise<unknown> {
  const headers: Record<string, string> = { ...c.headers };
  let body: string | null = null;
  if (c.body !== undefined) {
    if (typeof c.body === 'string') body = c.body;
    else {
      body = JSON.stringify(c.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  const res = await http.asyncRequest(c.method, base + c.path, body, { headers, tags: c.tags, timeout: c.timeout, responseCallback: c.expect });
  return answer(res);
}

function answer(res: RefinedResponse<ResponseType | undefined>): unknown {
  const ct = String(res.headers['Content-Type'] ?? '');
  if (typeof res.body !== 'string' || res.body.length === 0 || !ct.includes('json')) return res.body;
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    return res.body;
  }
}

// ── WebSocket steps ──────────────────────────────────────────────────────────

const wsDuration = new Trend('${WS_METRICS.duration}', true);
const wsFailed = new Rate('${WS_METRICS.failed}');
const wsSamples = new Counter('${WS_METRICS.samples}');

function sample(step: string, kind: string, call: string, ok: boolean, ms?: number): void {
  const tags = { step, kind, call };
  wsFailed.add(!ok, tags);
  wsSamples.add(1, { ...tags, ok: String(ok) });
  // A session the server ended has no closing latency: only its failure is counted.
  if (ms !== undefined) wsDuration.add(ms, tags);
}

export interface WsStep {
  name: string;
  kind: string;
  url: string;
  token: string;
  /** The connect request's params (protocol, client); auth is added from the token. */
  connectParams: Record<string, unknown>;
  /** Bound on the handshake and on each RPC. */
  timeoutMs: number;
  holdMs: number;
  everyMs: number;
  closeTimeoutMs: number;
  calls: Array<{ method: string; params: unknown }>;
}

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  event?: unknown;
  payload?: unknown;
  error?: unknown;
}

function frameOf(e: MessageEvent | undefined): Frame | undefined {
  if (e === undefined || typeof e.data !== 'string') return undefined;
  try {
    const f = JSON.parse(e.data) as unknown;
    return f !== null && typeof f === 'object' && !Array.isArray(f) ? (f as Frame) : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return (String(e?.code ?? '') + ' ' + String(e?.message ?? '')).trim();
}

/** One gateway session: the handshake, then req/res RPCs; knows when the socket has gone. */
class Session {
  private readonly ws: WebSocket;
  private readonly pending = new Map<string, (ok: boolean) => void>();
  private readonly onEnd = new Set<() => void>();
  private nextId = 1;
  ended = false;
  readonly ready: Promise<void>;

  constructor(s: WsStep) {
    const ws = new WebSocket(s.url, null, { tags: { step: s.name + '.connect', kind: s.kind, call: 'connect' } });
    this.ws = ws;
    this.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: TimeoutID | undefined;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      timer = setTimeout(() => settle(new Error('no hello-ok within ' + s.timeoutMs + ' ms')), s.timeoutMs);
      ws.onmessage = (e?: MessageEvent) => {
        const f = frameOf(e);
        if (!settled) {
          if (f === undefined) settle(new Error('handshake: frame is not a valid gateway frame'));
          else if (f.type === 'event' && f.event === 'connect.challenge') {
            ws.send(JSON.stringify({ type: 'req', id: 'c0', method: 'connect', params: { ...s.connectParams, auth: { token: s.token } } }));
          } else if (f.type === 'res' && String(f.id) === 'c0') {
            const hello = f.payload as { type?: unknown } | undefined;
            if (f.ok !== true) settle(new Error('connect refused: ' + describe(f.error)));
            else if (hello?.type !== 'hello-ok') settle(new Error('handshake: connect response is not hello-ok'));
            else settle();
          }
          return;
        }
        if (f?.type !== 'res') return;
        const id = String(f.id);
        const done = this.pending.get(id);
        if (done === undefined) return;
        this.pending.delete(id);
        done(f.ok === true);
      };
      ws.onerror = () => settle(new Error('socket error during the handshake'));
      ws.onclose = () => {
        this.ended = true;
        settle(new Error('closed during the handshake'));
        for (const done of this.pending.values()) done(false);
        this.pending.clear();
        for (const f of [...this.onEnd]) f();
        this.onEnd.clear();
      };
    });
  }

  /** Resolves after ms, or as soon as the socket has gone. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.ended || ms <= 0) {
        resolve();
        return;
      }
      const wake = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.onEnd.delete(wake);
        resolve();
      }, ms);
      this.onEnd.add(wake);
    });
  }

  /** One RPC: true when the gateway answered ok within the bound. */
  call(method: string, params: unknown, timeoutMs: number): Promise<boolean> {
    const id = String(this.nextId++);
    return new Promise<boolean>((resolve) => {
      if (this.ended) {
        resolve(false);
        return;
      }
      const t = setTimeout(() => {
        this.pending.delete(id);
        resolve(false);
      }, timeoutMs);
      this.pending.set(id, (ok) => {
        clearTimeout(t);
        resolve(ok);
      });
      try {
        this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
      } catch {
        this.pending.delete(id);
        clearTimeout(t);
        resolve(false);
      }
    });
  }

  /** Close politely: true when the gateway answered the close within the bound. */
  close(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (this.ended) {
        resolve(false);
        return;
      }
      const closed = (): void => {
        clearTimeout(t);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.onEnd.delete(closed);
        resolve(false);
      }, timeoutMs);
      this.onEnd.add(closed);
      this.ws.close(1000, 'done');
    });
  }

  abandon(): void {
    if (!this.ended) this.ws.close();
  }
}

/**
 * Open, hold, close — ClawStorm's ws step. Samples: the handshake on <name>.connect, each RPC on
 * <name>.rpc (call = the RPC method), the closing handshake on <name>.close. A session the server
 * ends before the hold is over is a failed <name>.close sample and fails the iteration.
 */
export async function wsStep(s: WsStep): Promise<void> {
  const t0 = Date.now();
  const session = new Session(s);
  try {
    await session.ready;
  } catch (err) {
    sample(s.name + '.connect', s.kind, 'connect', false, Date.now() - t0);
    session.abandon();
    throw err;
  }
  sample(s.name + '.connect', s.kind, 'connect', true, Date.now() - t0);
  const heldFrom = Date.now();
  const until = heldFrom + s.holdMs;
  let next = heldFrom;
  try {
    while (s.calls.length > 0 && next < until && !session.ended) {
      await session.sleep(next - Date.now());
      if (session.ended) break;
      await Promise.all(
        s.calls.map(async (c) => {
          const t = Date.now();
          const ok = await session.call(c.method, c.params, s.timeoutMs);
          sample(s.name + '.rpc', s.kind, c.method, ok, Date.now() - t);
        }),
      );
      // A slow tick delays the next one instead of bunching ticks up afterwards.
      next = Math.max(next + s.everyMs, Date.now());
    }
    if (!session.ended) await session.sleep(until - Date.now());
  } catch (err) {
    session.abandon();
    throw err;
  }
  if (!session.ended) {
    const t = Date.now();
    const clean = await session.close(s.closeTimeoutMs);
    sample(s.name + '.close', s.kind, 'close', clean, Date.now() - t);
    if (!clean) throw new Error(s.name + ': unclean close (no answer within ' + s.closeTimeoutMs + ' ms)');
    return;
  }
  sample(s.name + '.close', s.kind, 'close', false);
  throw new Error(s.name + ': the server ended the session after ' + ((Date.now() - heldFrom) / 1000).toFixed(1) + ' s of a ' + (s.holdMs / 1000).toFixed(1) + ' s hold');
}
`;
