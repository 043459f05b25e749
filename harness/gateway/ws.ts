import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';
import { acceptedTokens, recordAuthFailure, throttledFor, tokenAccepted } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { injectFault } from './faults.ts';
import { queueDepth } from './hooks.ts';
import { readiness, readinessBody } from './probes.ts';
import { recentFor } from './recent.ts';
import { ConnectParams, ReqFrame } from '../../contract/ws-frames.ts';
import { REQUEST_ID_RE, USER_ID_RE, USER_ID_RULE } from '../../contract/ids.ts';
import { invokeTool, type ToolCall, type ToolResult } from './tools/dispatch.ts';

// The OpenClaw gateway WebSocket protocol (v3) on the HTTP port: the server opens with a
// `connect.challenge` event, the client's first frame is a `connect` request carrying the token,
// then `req` → `res` frames, plus `tick` events. Frames are validated here; a bad frame gets an
// error `res`, never a crash.

export const PROTOCOL_VERSION = 3;
export const TICK_INTERVAL_MS = 15_000;
const PING_INTERVAL_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
export const MAX_PAYLOAD_BYTES = 1_048_576;
/** Outstanding RPCs one connection may have; beyond it requests are refused, not queued. */
const MAX_INFLIGHT = 256;
/** On drain, a connection with RPCs in flight gets this long to finish them before it is closed. */
const GOAWAY_GRACE_MS = 5_000;
const PATHS = new Set(['/', '/ws']);
const ANONYMOUS = 'u-anon';

export const METHODS = ['health', 'status', 'sessions.list', 'tools.invoke', 'sessions.send'] as const;


const ToolsInvokeSchema = z.looseObject({
  name: z.string().min(1).optional(),
  tool: z.string().min(1).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  sessionKey: z.string().min(1).optional(),
  idempotencyKey: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
  requestId: z.string().regex(REQUEST_ID_RE).optional(),
});

const SessionsSendSchema = z.looseObject({
  envelope: z.record(z.string(), z.unknown()).optional(),
  message: z.string().optional(),
  sessionKey: z.string().min(1).optional(),
  idempotencyKey: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
  requestId: z.string().regex(REQUEST_ID_RE).optional(),
});

type RpcError = { code: string; message: string; details?: Record<string, unknown>; retryable?: boolean };
type RpcOutcome = { ok: true; payload: unknown; status: number } | { ok: false; error: RpcError; status: number };

interface Conn {
  ws: WebSocket;
  ip: string;
  connected: boolean;
  userId: string;
  inflight: number;
  alive: boolean;
  seq: number;
  closing: boolean;
  sessions: Map<string, { sessionKey: string; calls: number; lastUsedAt: number }>;
  tick?: NodeJS.Timeout;
  connectTimer?: NodeJS.Timeout;
}

const registries = new WeakMap<GatewayContext, Set<Conn>>();

function connsOf(ctx: GatewayContext): Set<Conn> {
  let s = registries.get(ctx);
  if (s === undefined) {
    s = new Set();
    registries.set(ctx, s);
  }
  return s;
}

/** Open WebSocket connections (handshaking or connected) on this gateway. */
export function wsConnectionCount(ctx: GatewayContext): number {
  return registries.get(ctx)?.size ?? 0;
}

/** Client address as the HTTP routes see it (Fastify trustProxy: the first X-Forwarded-For hop). */
function clientIp(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return first !== undefined && first !== '' ? first : (req.socket.remoteAddress ?? 'unknown');
}

function refuseUpgrade(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: reason, message: reason });
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${status === 429 ? 'Too Many Requests' : status === 503 ? 'Service Unavailable' : 'Not Found'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

function send(conn: Conn, frame: unknown): void {
  if (conn.ws.readyState !== WebSocket.OPEN) return;
  conn.ws.send(JSON.stringify(frame));
}

function codeForStatus(status: number): string {
  if (status === 400 || status === 422) return 'INVALID_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 501) return 'NOT_IMPLEMENTED';
  if (status === 503) return 'UNAVAILABLE';
  return status >= 500 ? 'INTERNAL' : 'ERROR';
}

function toolOutcome(r: ToolResult): RpcOutcome {
  if (r.ok) return { ok: true, status: 200, payload: { result: r.result, requestId: r.requestId, auditId: r.auditId } };
  return {
    ok: false,
    status: r.status,
    error: {
      code: codeForStatus(r.status),
      message: r.error.message,
      details: { status: r.status, type: r.error.type, requestId: r.requestId, auditId: r.auditId },
      retryable: r.status === 429 || r.status === 503,
    },
  };
}

function invalid(message: string): RpcOutcome {
  return { ok: false, status: 400, error: { code: 'INVALID_REQUEST', message } };
}

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
}

function touchSession(conn: Conn, sessionKey: string | undefined): void {
  if (sessionKey === undefined) return;
  const s = conn.sessions.get(sessionKey);
  if (s === undefined) {
    // Bounded: a client cycling session keys must not grow the map without limit.
    if (conn.sessions.size >= 1_000) {
      const oldest = conn.sessions.keys().next().value;
      if (oldest !== undefined) conn.sessions.delete(oldest);
    }
    conn.sessions.set(sessionKey, { sessionKey, calls: 1, lastUsedAt: Date.now() });
  } else {
    s.calls++;
    s.lastUsedAt = Date.now();
  }
}

async function callTool(ctx: GatewayContext, conn: Conn, call: Omit<ToolCall, 'tenantId' | 'channel'>): Promise<RpcOutcome> {
  touchSession(conn, call.sessionKey);
  try {
    return toolOutcome(await invokeTool(ctx, { ...call, tenantId: ctx.config.tenantId, channel: 'ws' }));
  } catch (err) {
    ctx.log.error('ws tool invocation failed', { tool: call.tool, err: (err as Error).message });
    return { ok: false, status: 500, error: { code: 'INTERNAL', message: 'internal error' } };
  }
}

async function dispatch(ctx: GatewayContext, conn: Conn, method: string, params: unknown): Promise<RpcOutcome> {
  switch (method) {
    case 'health': {
      const r = await readiness(ctx);
      return { ok: true, status: 200, payload: readinessBody(ctx, r) };
    }
    case 'status': {
      const depth = await queueDepth(ctx);
      return {
        ok: true,
        status: 200,
        payload: {
          gateway: { id: ctx.config.id, az: ctx.config.az, version: ctx.config.version },
          skillHash: ctx.faults.skillHash,
          uptimeMs: Date.now() - ctx.startedAt,
          wsConnections: wsConnectionCount(ctx),
          queueDepth: depth,
          draining: ctx.faults.draining,
        },
      };
    }
    case 'sessions.list':
      return {
        ok: true,
        status: 200,
        payload: {
          sessions: [...conn.sessions.values()].map((s) => ({ ...s, lastUsedAt: new Date(s.lastUsedAt).toISOString() })),
        },
      };
    case 'tools.invoke': {
      const p = ToolsInvokeSchema.safeParse(params ?? {});
      if (!p.success) return invalid(issues(p.error));
      const tool = p.data.name ?? p.data.tool;
      if (tool === undefined) return invalid('params.name (or params.tool) is required');
      const args = p.data.args ?? {};
      // Same rule as POST /tools/invoke: args.user_id, else the caller's id, else u-anon.
      const userId = typeof args.user_id === 'string' ? args.user_id : (p.data.userId ?? conn.userId);
      if (!USER_ID_RE.test(userId)) return invalid(`user id (args.user_id, params.userId or connect client.userId): ${USER_ID_RULE}`);
      return callTool(ctx, conn, {
        tool,
        args,
        sessionKey: p.data.sessionKey,
        idempotencyKey: p.data.idempotencyKey,
        requestId: p.data.requestId ?? crypto.randomUUID(),
        userId,
      });
    }
    case 'sessions.send': {
      // Params are either `{envelope, message?, sessionKey?}` (the sessions_send tool's own
      // arguments) or the bare OCIP envelope plus control fields. The envelope itself is the
      // tool's to validate (it knows the version rules).
      const p = SessionsSendSchema.safeParse(params ?? {});
      if (!p.success) return invalid(issues(p.error));
      const { sessionKey, idempotencyKey, userId: givenUser, requestId, envelope: wrapped, message, ...bare } = p.data;
      const args: Record<string, unknown> = { envelope: wrapped ?? bare };
      if (message !== undefined) args.message = message;
      if (sessionKey !== undefined) args.sessionKey = sessionKey;
      const userId = givenUser ?? conn.userId;
      if (!USER_ID_RE.test(userId)) return invalid(`user id (params.userId or connect client.userId): ${USER_ID_RULE}`);
      return callTool(ctx, conn, {
        tool: 'sessions_send',
        args,
        sessionKey,
        idempotencyKey,
        requestId: requestId ?? crypto.randomUUID(),
        userId,
      });
    }
    default:
      return { ok: false, status: 404, error: { code: 'METHOD_NOT_FOUND', message: `unknown method ${method}` } };
  }
}

function parseFrame(data: RawData, isBinary: boolean): { frame?: z.infer<typeof ReqFrame>; id: string | number | null; error?: string } {
  if (isBinary) return { id: null, error: 'binary frames are not part of the protocol' };
  let raw: unknown;
  try {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    raw = JSON.parse(text);
  } catch {
    return { id: null, error: 'frame is not valid JSON' };
  }
  const idGuess =
    typeof raw === 'object' && raw !== null && 'id' in raw && (typeof raw.id === 'string' || typeof raw.id === 'number') ? raw.id : null;
  const p = ReqFrame.safeParse(raw);
  if (!p.success) return { id: idGuess, error: `invalid request frame: ${issues(p.error)}` };
  return { frame: p.data, id: p.data.id };
}

function goAway(conn: Conn, reason: string): void {
  if (conn.closing) return;
  conn.closing = true;
  const close = () => {
    if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) conn.ws.close(1001, reason);
  };
  if (conn.inflight === 0) {
    close();
    return;
  }
  // Let in-flight RPCs answer first; bounded so a stuck tool cannot hold the shutdown.
  const deadline = setTimeout(close, GOAWAY_GRACE_MS);
  deadline.unref();
  const poll = setInterval(() => {
    if (conn.inflight === 0 || conn.ws.readyState !== WebSocket.OPEN) {
      clearInterval(poll);
      clearTimeout(deadline);
      close();
    }
  }, 20);
  poll.unref();
}

export function registerWebSocket(app: FastifyInstance, ctx: GatewayContext): void {
  const conns = connsOf(ctx);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, clientTracking: false });
  const recent = recentFor(ctx);

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!PATHS.has(path)) return refuseUpgrade(socket, 404, 'NOT_FOUND');
    if (ctx.faults.draining) return refuseUpgrade(socket, 503, 'DRAINING', { 'Retry-After': '2' });
    const ip = clientIp(req);
    throttledFor(ctx, 'ws', ip).then(
      (wait) => {
        if (wait > 0) {
          ctx.metrics.rateLimited.inc({ bucket: 'auth_ws' });
          return refuseUpgrade(socket, 429, 'RATE_LIMITED', { 'Retry-After': String(wait) });
        }
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, ip));
      },
      (err: Error) => {
        ctx.log.warn('ws throttle check failed', { err: err.message });
        refuseUpgrade(socket, 503, 'UNAVAILABLE', { 'Retry-After': '1' });
      },
    );
  });

  function onConnection(ws: WebSocket, ip: string): void {
    const conn: Conn = {
      ws,
      ip,
      connected: false,
      userId: ANONYMOUS,
      inflight: 0,
      alive: true,
      seq: 0,
      closing: false,
      sessions: new Map(),
    };
    conns.add(conn);
    ctx.metrics.wsActive.set(conns.size);

    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      clearInterval(conn.tick);
      clearTimeout(conn.connectTimer);
      conns.delete(conn);
      ctx.metrics.wsActive.set(conns.size);
    });
    conn.connectTimer = setTimeout(() => {
      if (!conn.connected) ws.close(1008, 'connect timeout');
    }, CONNECT_TIMEOUT_MS);

    send(conn, { type: 'event', event: 'connect.challenge', payload: { nonce: crypto.randomBytes(16).toString('base64url'), ts: Date.now() } });

    ws.on('message', (data, isBinary) => {
      const parsed = parseFrame(data, isBinary);
      if (parsed.frame === undefined) {
        send(conn, { type: 'res', id: parsed.id, ok: false, error: { code: 'INVALID_REQUEST', message: parsed.error ?? 'invalid frame' } });
        return;
      }
      const frame = parsed.frame;
      if (!conn.connected) {
        void handleConnect(conn, frame);
        return;
      }
      if (frame.method === 'connect') {
        send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: 'already connected' } });
        return;
      }
      if (conn.closing) {
        send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'UNAVAILABLE', message: 'gateway is draining', retryable: true } });
        return;
      }
      if (conn.inflight >= MAX_INFLIGHT) {
        send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'RATE_LIMITED', message: `more than ${MAX_INFLIGHT} requests in flight`, retryable: true } });
        return;
      }
      void handleRpc(conn, frame);
    });
  }

  async function handleConnect(conn: Conn, frame: z.infer<typeof ReqFrame>): Promise<void> {
    if (frame.method !== 'connect') {
      send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: 'the first request must be connect' } });
      conn.ws.close(1008, 'connect first');
      return;
    }
    const p = ConnectParams.safeParse(frame.params ?? {});
    if (!p.success) {
      send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: issues(p.error) } });
      conn.ws.close(1008, 'invalid connect');
      return;
    }
    const { minProtocol = PROTOCOL_VERSION, maxProtocol = PROTOCOL_VERSION } = p.data;
    if (minProtocol > PROTOCOL_VERSION || maxProtocol < PROTOCOL_VERSION) {
      send(conn, {
        type: 'res',
        id: frame.id,
        ok: false,
        error: { code: 'PROTOCOL_MISMATCH', message: `server speaks protocol ${PROTOCOL_VERSION}`, details: { protocol: PROTOCOL_VERSION } },
      });
      conn.ws.close(1002, 'protocol mismatch');
      return;
    }
    const token = p.data.auth?.token ?? p.data.token;
    if (!tokenAccepted(token, acceptedTokens(ctx, 'ws'))) {
      await recordAuthFailure(ctx, 'ws', conn.ip).catch((err: Error) => ctx.log.warn('recording ws auth failure failed', { err: err.message }));
      send(conn, { type: 'res', id: frame.id, ok: false, error: { code: 'UNAUTHORIZED', message: 'missing or invalid token' } });
      conn.ws.close(1008, 'unauthorized');
      return;
    }
    conn.connected = true;
    clearTimeout(conn.connectTimer);
    conn.userId = p.data.client?.userId ?? ANONYMOUS;
    send(conn, {
      type: 'res',
      id: frame.id,
      ok: true,
      payload: {
        type: 'hello-ok',
        protocol: PROTOCOL_VERSION,
        server: { version: ctx.config.version, id: ctx.config.id, az: ctx.config.az },
        features: { methods: [...METHODS], events: ['connect.challenge', 'tick'] },
        policy: { tickIntervalMs: TICK_INTERVAL_MS, maxPayload: MAX_PAYLOAD_BYTES },
      },
    });
    conn.tick = setInterval(() => {
      conn.seq++;
      send(conn, { type: 'event', event: 'tick', payload: { ts: Date.now() }, seq: conn.seq });
    }, TICK_INTERVAL_MS);
    conn.tick.unref();
  }

  async function handleRpc(conn: Conn, frame: z.infer<typeof ReqFrame>): Promise<void> {
    conn.inflight++;
    const t0 = performance.now();
    let outcome: RpcOutcome;
    try {
      const failure = await injectFault(ctx);
      outcome =
        failure !== null
          ? { ok: false, status: 500, error: { code: 'INJECTED_FAULT', message: failure, retryable: true } }
          : await dispatch(ctx, conn, frame.method, frame.params);
    } catch (err) {
      ctx.log.error('ws rpc failed', { method: frame.method, err: (err as Error).message });
      outcome = { ok: false, status: 500, error: { code: 'INTERNAL', message: 'internal error' } };
    } finally {
      conn.inflight--;
    }
    // WebSocket RPCs are work like HTTP requests: they count in the probe's canary window.
    recent.record(outcome.status, performance.now() - t0);
    if (outcome.ok) send(conn, { type: 'res', id: frame.id, ok: true, payload: outcome.payload });
    else send(conn, { type: 'res', id: frame.id, ok: false, error: outcome.error });
  }

  // Keepalive: a peer that missed a whole ping interval is gone (half-open TCP); drop it.
  const pinger = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  // Draining (SIGTERM or the drain fault): connected clients get 1001 so they reconnect through
  // the load balancer to a gateway that is not leaving.
  const drainWatch = setInterval(() => {
    if (!ctx.faults.draining) return;
    for (const c of conns) goAway(c, 'gateway draining');
  }, 200);
  drainWatch.unref();

  let closed = false;
  const closeAll = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    clearInterval(pinger);
    clearInterval(drainWatch);
    for (const c of conns) goAway(c, 'gateway shutting down');
    // Upgraded sockets keep the HTTP server's close() waiting, so they must be gone first.
    const deadline = Date.now() + GOAWAY_GRACE_MS + 1_000;
    while (conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of conns) c.ws.terminate();
    wss.close();
  };
  app.addHook('preClose', closeAll);
  ctx.onClose.push(closeAll);
}
