import WebSocket from 'ws';
import { z } from 'zod';
import { registerSecret } from '../../util/redact.ts';
import type { SampleSink, StatusClass } from '../samples.ts';
import { RequestAbortedByRunError, type JourneyContext } from './http.ts';

// The gateway's frame protocol (SPEC §10): event / req / res, JSON text frames.
const eventFrame = z.looseObject({
  type: z.literal('event'),
  event: z.string(),
  payload: z.unknown().optional(),
  seq: z.number().optional(),
});
const resFrame = z.looseObject({
  type: z.literal('res'),
  id: z.union([z.string(), z.number()]),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: z.unknown().optional(),
});
const frameSchema = z.discriminatedUnion('type', [eventFrame, resFrame, z.looseObject({ type: z.literal('req') })]);
const challengePayload = z.looseObject({ nonce: z.string(), ts: z.number().optional() });
const helloPayload = z.looseObject({ type: z.literal('hello-ok') });

export type WsEvent = z.infer<typeof eventFrame>;

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

interface Pending {
  resolve: (frame: z.infer<typeof resFrame>) => void;
  reject: (err: Error) => void;
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

/** One gateway WebSocket session: challenge → connect → hello-ok, then req/res RPCs and events. */
export class WsSession {
  readonly hello: unknown;
  private readonly ws: WebSocket;
  private readonly opts: WsSessionOptions;
  private readonly pending: Map<string, Pending>;
  private readonly listeners = new Set<(e: WsEvent) => void>();
  private nextId: number;
  private closedWith: string | undefined;
  private initiator: WsCloseInfo['initiator'] | undefined;
  private timedOut = false;
  private closeInfo: WsCloseInfo | undefined;
  private settleClosed: (info: WsCloseInfo) => void = () => {};
  /** Resolves once the socket is closed, however that came about. */
  readonly closed: Promise<WsCloseInfo>;

  private constructor(ws: WebSocket, opts: WsSessionOptions, hello: unknown, pending: Map<string, Pending>, nextId: number) {
    this.ws = ws;
    this.opts = opts;
    this.hello = hello;
    this.pending = pending;
    this.nextId = nextId;
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
    const pending = new Map<string, Pending>();
    const listeners: Array<(e: WsEvent) => void> = [];
    const t0 = performance.now();
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
    let session: WsSession | undefined;
    let statusClass: StatusClass = 'error';

    const record = (ok: boolean, cls: StatusClass): void => {
      opts.sink.record({
        tags: { scenario: opts.scenario, step, method: 'connect', status_class: cls },
        latencyMs: performance.now() - t0 + (opts.startLagMs ?? 0),
        ok,
        ...(opts.intendedStart === undefined ? {} : { intendedStart: opts.intendedStart }),
      });
    };

    try {
      const hello = await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new WsProtocolError(`no hello-ok within ${timeoutMs} ms`)), timeoutMs);
        const onAbort = (): void => reject(new RequestAbortedByRunError());
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const done = (): void => {
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
          if (session !== undefined) return;
          let frame: z.infer<typeof frameSchema>;
          try {
            frame = frameSchema.parse(JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data)));
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
          if (frame.type === 'event') {
            for (const l of listeners) l(frame);
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
        });
      });
      statusClass = '2xx';
      record(true, statusClass);
      session = new WsSession(ws, opts, hello, pending, 1);
      for (const l of listeners) session.listeners.add(l);
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
    ws.on('close', (code, reason) => {
      this.closedWith ??= `connection closed (code ${code})`;
      const err = new WsProtocolError(this.closedWith);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.closeInfo = {
        code,
        reason: reason.toString('utf8'),
        initiator: this.initiator ?? 'server',
        clean: !this.timedOut && (code === 1000 || code === 1005),
      };
      this.settleClosed(this.closeInfo);
    });
    ws.on('message', (data, isBinary) => {
      let raw: unknown;
      try {
        raw = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data));
      } catch {
        return; // not ours to judge mid-session; a missing res shows up as a timeout
      }
      const r = frameSchema.safeParse(raw);
      if (!r.success) return;
      const frame = r.data;
      if (frame.type === 'res') {
        const id = String(frame.id);
        const p = this.pending.get(id);
        if (p !== undefined) {
          this.pending.delete(id);
          p.resolve(frame);
        }
      } else if (frame.type === 'event') {
        for (const l of this.listeners) l(frame);
      }
    });
    if (this.opts.signal !== undefined) {
      const onAbort = (): void => {
        this.closedWith ??= 'session aborted';
        this.initiator ??= 'abort';
        ws.terminate();
      };
      if (this.opts.signal.aborted) onAbort();
      else this.opts.signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Subscribe to `{type:"event"}` frames; returns the unsubscribe function. */
  onEvent(handler: (e: WsEvent) => void): () => void {
    this.listeners.add(handler);
    return () => this.listeners.delete(handler);
  }

  /**
   * One RPC. Records a sample tagged with the method (or `tag`); resolves with the outcome
   * (server errors and timeouts included); rejects only when the run's stop aborted it.
   */
  async call(method: string, params: unknown, opts: WsCallOptions = {}): Promise<WsCallResult> {
    const ctx = opts.ctx;
    const scenario = ctx?.scenario ?? this.opts.scenario;
    const step = opts.step ?? this.opts.step ?? 'ws';
    const timeoutMs = opts.timeoutMs ?? this.opts.callTimeoutMs ?? 30_000;
    const stop = ctx?.signal ?? this.opts.signal;
    const lag = ctx?.startLagMs ?? 0;
    const intendedStart = ctx?.intendedStart;
    if (stop?.aborted) throw new RequestAbortedByRunError();
    const id = String(this.nextId++);
    const t0 = performance.now();
    let result: Omit<WsCallResult, 'latencyMs'>;
    try {
      const frame = await new Promise<z.infer<typeof resFrame>>((resolve, reject) => {
        if (this.ws.readyState !== WebSocket.OPEN) {
          reject(new WsProtocolError(this.closedWith ?? 'connection is not open'));
          return;
        }
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new WsProtocolError(`no response to ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        const onAbort = (): void => {
          this.pending.delete(id);
          clearTimeout(timer);
          reject(new RequestAbortedByRunError());
        };
        stop?.addEventListener('abort', onAbort, { once: true });
        this.pending.set(id, {
          resolve: (f) => {
            clearTimeout(timer);
            stop?.removeEventListener('abort', onAbort);
            resolve(f);
          },
          reject: (e) => {
            clearTimeout(timer);
            stop?.removeEventListener('abort', onAbort);
            reject(e);
          },
        });
        this.ws.send(JSON.stringify({ type: 'req', id, method, params }), (err) => {
          if (err === undefined || err === null) return;
          const p = this.pending.get(id);
          this.pending.delete(id);
          p?.reject(new WsProtocolError(`send failed: ${describe(err)}`));
        });
      });
      result = frame.ok
        ? { ok: true, payload: frame.payload, statusClass: '2xx' }
        : { ok: false, error: frame.error, statusClass: classOfRpcError(frame.error) };
    } catch (err) {
      if (err instanceof RequestAbortedByRunError) throw err;
      result = { ok: false, error: { message: describe(err) }, statusClass: 'error' };
    }
    const latencyMs = performance.now() - t0 + lag;
    this.opts.sink.record({
      tags: { scenario, step, method: opts.tag ?? method, status_class: result.statusClass },
      latencyMs,
      ok: result.ok,
      ...(intendedStart === undefined ? {} : { intendedStart }),
    });
    return { ...result, latencyMs };
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
