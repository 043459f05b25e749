// Minimal endpoint for bench/load-engine.ts: the cheapest possible keep-alive HTTP answer, so the
// figures measure the load generators, not the server. Prints {"port":N} once listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from('ok');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
