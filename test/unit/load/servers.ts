import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface TestServer {
  url: string;
  port: number;
  requests: () => number;
  close: () => Promise<void>;
}

async function listen(server: http.Server): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port };
}

function closer(server: http.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * A serialized endpoint (one request served at a time, the rest queue, like a hung single-threaded
 * backend). Each answer takes serviceMs, except the first request served stallAfterMs or more
 * after the first one: it takes stallMs, and everything behind it waits.
 */
export async function startStallingServer(opts: { serviceMs?: number; stallMs?: number; stallAfterMs?: number } = {}): Promise<TestServer> {
  const serviceMs = opts.serviceMs ?? 5;
  const stallMs = opts.stallMs ?? 1000;
  const stallAfterMs = opts.stallAfterMs ?? 1000;
  let firstAt: number | undefined;
  let stalled = false;
  let busy = false;
  let count = 0;
  const queue: Array<() => void> = [];
  const pump = (): void => {
    if (busy) return;
    const job = queue.shift();
    if (job === undefined) return;
    busy = true;
    job();
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      queue.push(() => {
        const now = performance.now();
        firstAt ??= now;
        count += 1;
        let ms = serviceMs;
        if (!stalled && now - firstAt >= stallAfterMs) {
          stalled = true;
          ms = stallMs;
        }
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
          busy = false;
          pump();
        }, ms);
      });
      pump();
    });
  });
  server.keepAliveTimeout = 60_000;
  const { url, port } = await listen(server);
  return { url, port, requests: () => count, close: closer(server) };
}

/**
 * Routes for driver tests: /ok, /status/<n>, /hang, /slow/<ms>, /echo-auth (says whether a token
 * arrived). connections() counts the TCP connections it accepted.
 */
export async function startRoutesServer(): Promise<TestServer & { lastAuth: () => string | undefined; connections: () => number }> {
  let count = 0;
  let lastAuth: string | undefined;
  const server = http.createServer((req, res) => {
    count += 1;
    lastAuth = req.headers.authorization;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = req.url ?? '/';
      if (url === '/hang') return; // never answers
      const slow = /^\/slow\/(\d+)$/.exec(url);
      if (slow !== null) {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('slow');
        }, Number(slow[1]));
        return;
      }
      const m = /^\/status\/(\d{3})$/.exec(url);
      if (m !== null) {
        res.writeHead(Number(m[1]), { 'content-type': 'text/plain' });
        res.end(`status ${m[1]}`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, method: req.method, url, body: body === '' ? null : JSON.parse(body) }));
    });
  });
  let accepted = 0;
  server.on('connection', () => {
    accepted += 1;
  });
  server.keepAliveTimeout = 60_000;
  const { url, port } = await listen(server);
  return { url, port, requests: () => count, lastAuth: () => lastAuth, connections: () => accepted, close: closer(server) };
}

export interface WsGatewayOptions {
  token: string;
  /** Close every session this long after its hello-ok (the gateway dropping it). */
  dropAfterMs?: number;
  /** How to drop: cut the TCP connection (1006 at the client) or send a close frame with this code. */
  dropWith?: 'terminate' | number;
}

export interface WsGateway {
  url: string;
  wss: WebSocketServer;
  /** `connect` params of every handshake, in order. */
  connectParams: unknown[];
  /** RPC methods received after hello, in order. */
  calls: string[];
  /** Close codes the server saw from clients. */
  clientCloses: number[];
  close: () => Promise<void>;
}

/**
 * A tiny gateway: challenge → connect(token) → hello-ok, then RPCs: `echo`, `health`, `status`,
 * `sessions.list` (ok), `fail` (4xx-like), `overloaded` (5xx-like), `notify` (an event first),
 * `drop` (terminates); `silent` and anything else never answer.
 */
export function startWsGateway(opts: WsGatewayOptions): Promise<WsGateway> {
  const connectParams: unknown[] = [];
  const calls: string[] = [];
  const clientCloses: number[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws: WebSocket) => {
    const nonce = `n-${Math.random()}`;
    let authed = false;
    ws.on('close', (code) => clientCloses.push(code));
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce, ts: Date.now() } }));
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as { type: string; id: string; method: string; params: Record<string, unknown> };
      const answer = (ok: boolean, body: unknown): void => ws.send(JSON.stringify({ type: 'res', id: f.id, ok, ...(ok ? { payload: body } : { error: body }) }));
      if (!authed) {
        if (f.type !== 'req' || f.method !== 'connect') return ws.close(1008, 'first frame must be connect');
        connectParams.push(f.params);
        const auth = f.params.auth as { token?: string } | undefined;
        if (auth?.token !== opts.token) {
          answer(false, { code: 'UNAUTHORIZED', message: 'bad token' });
          return ws.close(1008, 'unauthorized');
        }
        authed = true;
        answer(true, { type: 'hello-ok', protocol: 3, policy: { tickIntervalMs: 15000 } });
        if (opts.dropAfterMs !== undefined) {
          setTimeout(() => (opts.dropWith === undefined || opts.dropWith === 'terminate' ? ws.terminate() : ws.close(opts.dropWith, 'going away')), opts.dropAfterMs);
        }
        return;
      }
      calls.push(f.method);
      if (f.method === 'echo') answer(true, f.params);
      else if (f.method === 'health' || f.method === 'status' || f.method === 'sessions.list') answer(true, { ok: true, method: f.method });
      else if (f.method === 'fail') answer(false, { code: 'INVALID_REQUEST', message: 'no' });
      else if (f.method === 'overloaded') answer(false, { code: 'UNAVAILABLE', message: 'busy' });
      else if (f.method === 'notify') {
        ws.send(JSON.stringify({ type: 'event', event: 'tick', payload: { n: 1 }, seq: 7 }));
        answer(true, {});
      } else if (f.method === 'drop') ws.terminate();
      // 'silent': never answers
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () =>
      resolve({
        url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
        wss,
        connectParams,
        calls,
        clientCloses,
        close: async () => {
          for (const c of wss.clients) c.terminate();
          await new Promise((r) => wss.close(r));
        },
      }),
    ),
  );
}
