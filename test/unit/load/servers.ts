import http from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** Routes for driver tests: /ok, /status/<n>, /hang, /echo-auth (says whether a token arrived). */
export async function startRoutesServer(): Promise<TestServer & { lastAuth: () => string | undefined }> {
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
  server.keepAliveTimeout = 60_000;
  const { url, port } = await listen(server);
  return { url, port, requests: () => count, lastAuth: () => lastAuth, close: closer(server) };
}
