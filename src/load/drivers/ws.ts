import WebSocket from 'ws';
import { z } from 'zod';
import { ChallengePayload, EventFrame, HelloOk, ResFrame } from '../../../contract/ws-frames.ts';
import { registerSecret } from '../../util/redact.ts';
import type { SampleSink, StatusClass } from '../samples.ts';
import { RequestAbortedByRunError, type JourneyContext } from './http.ts';
import { StopFanout, type Stoppable, type Watched } from './stop-fanout.ts';

// The gateway's frame protocol: the shapes are contract/ws-frames.ts, shared with the reference
// gateway. Only a server-sent `req` is read loosely (a gateway has no business sending one; it is
// ignored, not a protocol error), and of `hello-ok` only its type matters to a load session.
const frameSchema = z.discriminatedUnion('type', [EventFrame, ResFrame, z.looseObject({ type: z.literal('req') })]);
const challengePayload = ChallengePayload;
const helloPayload = HelloOk.pick({ type: true });

export type WsEvent = z.infer<typeof EventFrame>;
type WsRes = z.infer<typeof ResFrame>;

/**
 * A session's frames after the handshake, checked by hand: the same shapes as EventFrame and
 * ResFrame (undefined for anything else), without building a parsed copy of every frame, which
 * the schema's parse does once per frame at tens of thousands of frames a second.
 */
function readFrame(raw: unknown): WsRes | WsEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const f = raw as Record<string, unknown>;
  if (f.type === 'res') {
    const id = f.id;
    if ((typeof id !== 'string' && typeof id !== 'number') || typeof f.ok !== 'boolean') return undefined;
    return f as WsRes;
  }
  if (f.type === 'event') {
    if (typeof f.event !== 'string' || (f.seq !== undefined && typeof f.seq !== 'number')) return undefined;
    return f as WsEvent;
  }
  return undefined;
}

function frameText(data: WebSocket.RawData, isBinary: boolean): string {
  if (!isBinary && Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

export interface WsSessionOptions {
  sink: SampleSink;
  scenario: string;
  /** Step tag of the connect sample and default step of calls. Default 'ws'. */
  step?: string;
  /** Bound on open → hello-ok. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default RPC timeout. Default 30 s. */
  callTimeoutMs?: number;
  /** Extra/overriding `connect` params (client info, role, scopes); auth is always {token}. */
  connectParams?: Record<string, unknown>;
  /** Aborting closes the socket; calls then reject without recording a sample. */
  signal?: AbortSignal;
  /** Open-model timing of the connect (the iteration it happens in). */
  startLagMs?: number;
  intendedStart?: number;
}

export interface WsCallOptions {
  step?: string;
  /** The sample's `method` tag; default the RPC method (use the tool name for tools.invoke). */
  tag?: string;
  timeoutMs?: number;
  /** The calling iteration: its scenario, stop signal and start lag apply to this call. */
  ctx?: JourneyContext;
}

export interface WsCallResult {
  ok: boolean;
  payload?: unknown;
  error?: unknown;
  latencyMs: number;
  statusClass: StatusClass;
}

/** How a session ended. */
export interface WsCloseInfo {
  /** The close code received; 1006 when the connection was cut without a close frame. */
  code: number;
  reason: string;
  /** Who ended it: close() (`client`), the peer (`server`), or the run's stop signal (`abort`). */
  initiator: 'client' | 'server' | 'abort';
  /**
   * The closing handshake completed with a normal code (1000, or 1005 for none): for `client`,
   * the peer answered our close frame before the timeout; for `server`, it sent one at all.
   */
  clean: boolean;
}


export class WsProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WsProtocolError';
  }
}

/** An RPC error the server sent: 5xx-like when it blames itself, else 4xx-like. */
function classOfRpcError(error: unknown): StatusClass {
  const e = error as { code?: unknown; status?: unknown } | undefined;
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 600) return e.status >= 500 ? '5xx' : '4xx';
  const code = typeof e?.code === 'string' ? e.code : '';
  return /unavailable|internal|timeout|overload|busy|exhausted/i.test(code) ? '5xx' : '4xx';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const DEFAULT_CONNECT_PARAMS = {
  minProtocol: 3,
  maxProtocol: 3,
  client: { id: 'clawstorm', version: '0.1.0', platform: process.platform, mode: 'operator' },
  role: 'operator',
  scopes: ['operator.read', 'operator.write'],
  caps: [],
};

// One abort listener per stop signal for every session and every call under it (see stop-fanout.ts).
const sessionStops = new StopFanout<WsSession>();
const callStops = new StopFanout<PendingCall>();

interface CallTags {
  scenario: string;
  step: string;
  tag: string;
  lag: number;
  intendedStart: number | undefined;
}

function onCallTimeout(call: PendingCall): void {
  call.failed(`no response to ${call.method} within ${call.timeoutMs} ms`);
}

/** One RPC awaiting its `res` frame: settles once (answer, failure, timeout or the run's stop). */
class PendingCall implements Stoppable {
  readonly promise: Promise<WsCallResult>;
  readonly method: string;
  readonly timeoutMs: number;
  private resolve!: (r: WsCallResult) => void;
  private reject!: (e: Error) => void;
  private readonly session: WsSession;
  private readonly id: string;
  private readonly tags: CallTags;
  private readonly t0 = performance.now();
  private readonly timer: NodeJS.Timeout;
  private watched: Watched<PendingCall> | undefined;
  private settled = false;

  constructor(session: WsSession, id: string, method: string, tags: CallTags, timeoutMs: number) {
    this.session = session;
    this.id = id;
    this.method = method;
    this.tags = tags;
    this.timeoutMs = timeoutMs;
    this.promise = new Promise<WsCallResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(onCallTimeout, timeoutMs, this);
  }

  watch(w: Watched<PendingCall>): void {
    this.watched = w;
    w.inFlight.add(this);
  }

  answered(frame: WsRes): void {
    if (frame.ok) this.settle({ ok: true, payload: frame.payload, statusClass: '2xx' });
    else this.settle({ ok: false, error: frame.error, statusClass: classOfRpcError(frame.error) });
  }

  failed(message: string): void {
    this.settle({ ok: false, error: { message }, statusClass: 'error' });
  }

  /** The run is stopping: not the gateway's failure, so no sample; the caller's await rejects. */
  stoppedByRun(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.session.forget(this.id);
    this.reject(new RequestAbortedByRunError());
  }

  private settle(result: Omit<WsCallResult, 'latencyMs'>): void {
    if (this.settled) return;
    this.settled = true;
    const latencyMs = performance.now() - this.t0 + this.tags.lag;
    clearTimeout(this.timer);
    this.session.forget(this.id);
    this.watched?.inFlight.delete(this);
    const t = this.tags;
    this.session.sink.recordTagged(t.scenario, t.step, t.tag, result.statusClass, latencyMs, result.ok, t.intendedStart !== undefined);
    this.resolve({ ...result, latencyMs });
  }
}

/** One gateway WebSocket session: challenge → connect → hello-ok, then req/res RPCs and events. */
export class WsSession implements Stoppable {
  readonly hello: unknown;
  readonly sink: SampleSink;
  private readonly ws: WebSocket;
  private readonly opts: WsSessionOptions;
  private readonly pending = new Map<string, PendingCall>();
  private listeners: Set<(e: WsEvent) => void> | undefined;
  private nextId = 1;
  private closedWith: string | undefined;
  private initiator: WsCloseInfo['initiator'] | undefined;
  private timedOut = false;
  private closeInfo: WsCloseInfo | undefined;
  private settleClosed: (info: WsCloseInfo) => void = () => {};
  private stopWatch: Watched<WsSession> | undefined;
  /** Resolves once the socket is closed, however that came about. */
  readonly closed: Promise<WsCloseInfo>;

  private constructor(ws: WebSocket, opts: WsSessionOptions, hello: unknown) {
    this.ws = ws;
    this.opts = opts;
    this.sink = opts.sink;
    this.hello = hello;
    this.closed = new Promise((resolve) => {
      this.settleClosed = resolve;
    });
  }

  /**
   * Open a session. Records one sample (method tag `connect`) with the latency from starting the
   * open to hello-ok. Resolves with the session; rejects (after recording an error sample) when
   * the handshake fails or times out.
   */
  static async connect(url: string, token: string, opts: WsSessionOptions): Promise<WsSession> {
    registerSecret(token);
    const step = opts.step ?? 'ws';
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const t0 = performance.now();
    if (opts.signal !== undefined && sessionStops.of(opts.signal).stopped) throw new RequestAbortedByRunError();
    // Our own timer bounds open → hello-ok as a whole, so ws needs no handshake timer of its own.
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let statusClass: StatusClass = 'error';

    const record = (ok: boolean, cls: StatusClass): void => {
      opts.sink.recordTagged(opts.scenario, step, 'connect', cls, performance.now() - t0 + (opts.startLagMs ?? 0), ok, opts.intendedStart !== undefined);
    };

    try {
      const hello = await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new WsProtocolError(`no hello-ok within ${timeoutMs} ms`)), timeoutMs);
        // Handshakes in progress are few at a time, so a listener each on the run's signal is cheap.
        const onAbort = (): void => reject(new RequestAbortedByRunError());
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        let finished = false;
        const done = (): void => {
          finished = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
        };
        const connectId = 'c0';
        ws.on('unexpected-response', (_req, res) => {
          statusClass = (res.statusCode ?? 0) >= 500 ? '5xx' : '4xx';
          done();
          reject(new WsProtocolError(`upgrade refused with HTTP ${res.statusCode}`));
          res.resume();
        });
        ws.on('error', (err) => {
          done();
          reject(new WsProtocolError(`socket error: ${describe(err)}`));
        });
        ws.on('close', (code) => {
          done();
          reject(new WsProtocolError(`closed during handshake (code ${code})`));
        });
        ws.on('message', (data, isBinary) => {
          if (finished) return;
          let frame: z.infer<typeof frameSchema>;
          try {
            frame = frameSchema.parse(JSON.parse(frameText(data, isBinary)));
          } catch {
            done();
            reject(new WsProtocolError('handshake: frame is not a valid gateway frame'));
            return;
          }
          if (frame.type === 'event' && frame.event === 'connect.challenge') {
            const ch = challengePayload.safeParse(frame.payload);
            if (!ch.success) {
              done();
              reject(new WsProtocolError('handshake: connect.challenge without a nonce'));
              return;
            }
            const params = { ...DEFAULT_CONNECT_PARAMS, ...(opts.connectParams ?? {}), auth: { token } };
            ws.send(JSON.stringify({ type: 'req', id: connectId, method: 'connect', params }));
            return;
          }
          if (frame.type === 'res' && String(frame.id) === connectId) {
            done();
            if (!frame.ok) {
              statusClass = classOfRpcError(frame.error);
              const err = frame.error as { code?: unknown; message?: unknown } | undefined;
              reject(new WsProtocolError(`connect refused: ${String(err?.code ?? '')} ${String(err?.message ?? '')}`.trim()));
              return;
            }
            if (!helloPayload.safeParse(frame.payload).success) {
              reject(new WsProtocolError('handshake: connect response is not hello-ok'));
              return;
            }
            resolve(frame.payload);
          }
          // Other events before hello-ok have no subscriber yet: dropped.
        });
      });
      statusClass = '2xx';
      record(true, statusClass);
      const session = new WsSession(ws, opts, hello);
      session.attach();
      return session;
    } catch (err) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      if (err instanceof RequestAbortedByRunError) throw err;
      record(false, statusClass);
      throw err;
    }
  }

  private attach(): void {
    const ws = this.ws;
    ws.removeAllListeners('message');
    ws.removeAllListeners('close');
    ws.removeAllListeners('error');
    ws.removeAllListeners('unexpected-response');
    ws.on('error', (err) => {
      this.closedWith ??= `socket error: ${describe(err)}`;
    });
    ws.on('close', (code, reason) => this.onClose(code, reason));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    if (this.opts.signal !== undefined) {
      const w = sessionStops.of(this.opts.signal);
      if (w.stopped) this.stoppedByRun();
      else {
        this.stopWatch = w;
        w.inFlight.add(this);
      }
    }
  }

  private onClose(code: number, reason: Buffer): void {
    this.stopWatch?.inFlight.delete(this);
    this.closedWith ??= `connection closed (code ${code})`;
    const message = this.closedWith;
    for (const p of [...this.pending.values()]) p.failed(message);
    this.pending.clear();
    this.closeInfo = {
      code,
      reason: reason.toString('utf8'),
      initiator: this.initiator ?? 'server',
      clean: !this.timedOut && (code === 1000 || code === 1005),
    };
    this.settleClosed(this.closeInfo);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    let frame: WsRes | WsEvent | undefined;
    try {
      frame = readFrame(JSON.parse(frameText(data, isBinary)));
    } catch {
      return; // not ours to judge mid-session; a missing res shows up as a timeout
    }
    if (frame === undefined) return;
    if (frame.type === 'res') {
      this.pending.get(String(frame.id))?.answered(frame);
    } else if (this.listeners !== undefined) {
      for (const l of this.listeners) l(frame);
    }
  }

  /** The run's stop: cut the socket (pending calls under the same stop reject on their own). */
  stoppedByRun(): void {
    this.closedWith ??= 'session aborted';
    this.initiator ??= 'abort';
    this.ws.terminate();
  }

  /** A call settled: it no longer waits for its id. */
  forget(id: string): void {
    this.pending.delete(id);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Subscribe to `{type:"event"}` frames; returns the unsubscribe function. */
  onEvent(handler: (e: WsEvent) => void): () => void {
    this.listeners ??= new Set();
    const set = this.listeners;
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * One RPC. Records a sample tagged with the method (or `tag`); resolves with the outcome
   * (server errors and timeouts included); rejects only when the run's stop aborted it.
   */
  call(method: string, params: unknown, opts: WsCallOptions = {}): Promise<WsCallResult> {
    const ctx = opts.ctx;
    const stop = ctx?.signal ?? this.opts.signal;
    const watched = stop === undefined ? undefined : callStops.of(stop);
    if (watched?.stopped) return Promise.reject(new RequestAbortedByRunError());
    const id = String(this.nextId++);
    const call = new PendingCall(
      this,
      id,
      method,
      {
        scenario: ctx?.scenario ?? this.opts.scenario,
        step: opts.step ?? this.opts.step ?? 'ws',
        tag: opts.tag ?? method,
        lag: ctx?.startLagMs ?? 0,
        intendedStart: ctx?.intendedStart,
      },
      opts.timeoutMs ?? this.opts.callTimeoutMs ?? 30_000,
    );
    if (this.ws.readyState !== WebSocket.OPEN) {
      call.failed(this.closedWith ?? 'connection is not open');
      return call.promise;
    }
    this.pending.set(id, call);
    if (watched !== undefined) call.watch(watched);
    this.ws.send(JSON.stringify({ type: 'req', id, method, params }), (err) => {
      if (err !== undefined && err !== null) call.failed(`send failed: ${describe(err)}`);
    });
    return call.promise;
  }

  /**
   * Close politely, and forcefully if the peer does not answer within timeoutMs. Resolves with how
   * the session ended — also when it had already ended (then the peer or an abort ended it).
   */
  async close(timeoutMs = 2_000): Promise<WsCloseInfo> {
    if (this.closeInfo !== undefined) return this.closeInfo;
    const ws = this.ws;
    // Only an open socket is ours to close; one already CLOSING is the peer's (or an abort's) close.
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      this.initiator ??= 'client';
      this.closedWith ??= 'closed by client';
      ws.close(1000, 'done');
    }
    const timer = setTimeout(() => {
      this.timedOut = true;
      ws.terminate();
    }, timeoutMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `connect(url, token)` as a function. */
export function connectWs(url: string, token: string, opts: WsSessionOptions): Promise<WsSession> {
  return WsSession.connect(url, token, opts);
}
