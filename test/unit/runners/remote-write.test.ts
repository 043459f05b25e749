// A runner's remote write: what reaches the receiver is the protobuf WriteRequest (snappy-compressed)
// that Prometheus's receiver takes, in order; a receiver that refuses is logged once and does not
// stop the runner. The labels and values as Prometheus stores them are checked against a real
// Prometheus in test/integration/runners.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteWriter, RUNNER_SERIES } from '../../../src/runners/remote-write.ts';

let server: http.Server;
let url = '';
let status = 204;
const bodies: Array<{ body: Buffer; headers: http.IncomingHttpHeaders }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.statusCode = status;
      res.end(status >= 300 ? 'refused' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
});
afterAll(() => {
  server.close();
});

describe('runner remote write', () => {
  it('pushes each scenario’s counters, labelled, as a remote-write request', async () => {
    const lines: string[] = [];
    const w = new RemoteWriter({ url, run: 'run-7', runner: 'run-7-2', index: 2, log: (l) => lines.push(l) });
    w.final('policy-evaluation', { requests: 167, errors: 1, dropped: 3 }, false);
    await w.stop();
    expect(lines).toEqual([]);
    expect(w.pushes).toBe(1);
    const got = bodies.at(-1)!;
    expect(got.headers['content-type']).toBe('application/x-protobuf');
    expect(got.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
    // Snappy keeps the first occurrence of a string as a literal: the first series' name is there.
    expect(got.body.toString('latin1')).toContain(RUNNER_SERIES.requests);
  });

  it('a refusing receiver is logged once; the writer carries on', async () => {
    status = 400;
    const lines: string[] = [];
    const w = new RemoteWriter({ url, run: 'r', runner: 'r-1', index: 1, log: (l) => lines.push(l) });
    w.final('s', { requests: 1, errors: 0, dropped: 0 }, true);
    await w.push();
    await w.stop();
    expect(w.pushes).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/remote write to .* failed \(400/);
    status = 204;
  });
});
