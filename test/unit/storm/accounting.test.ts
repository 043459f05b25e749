// The receiving-side accounting against a stub runs endpoint.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account } from '../../../src/webhooks/accounting.ts';

let server: http.Server;
let url = '';
const processed = new Map<string, number>();
let depth = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const { runIds } = JSON.parse(text) as { runIds: string[] };
      const runs: Record<string, { processed: number }> = {};
      for (const id of runIds) runs[id] = { processed: processed.get(id) ?? 0 };
      const missing = runIds.filter((id) => (processed.get(id) ?? 0) === 0).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ runs, summary: { asked: runIds.length, processed: runIds.length - missing, missing, duplicated: 0 }, queueDepth: depth, processing: 0 }));
      // The queue drains as it is asked.
      depth = Math.max(0, depth - 1);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('webhook accounting', () => {
  it('waits for the queue to drain, then counts accepted, lost and duplicated', async () => {
    processed.clear();
    processed.set('r1', 1);
    processed.set('r2', 1);
    processed.set('r3', 2); // processed twice
    depth = 2;
    const a = await account({ urls: ['http://127.0.0.1:1', url], adminToken: 't' }, [
      { key: 'k1', runId: 'r1' },
      { key: 'k1', runId: 'r1' }, // a redelivery that replayed the same run: fine
      { key: 'k2', runId: 'r2' },
      { key: 'k2', runId: 'r9' }, // one key, two runs: duplicated
      { key: 'k3', runId: 'r3' },
    ], { timeoutMs: 400, intervalMs: 20 });
    expect(a.acknowledged).toBe(3);
    expect(a.runs).toBe(4);
    expect(a.lost).toBe(1);
    expect(a.lostRunIds).toEqual(['r9']);
    expect(a.duplicatedKeys).toBe(1);
    expect(a.duplicatedRuns).toBe(1);
    expect(a.duplicated).toBe(2);
    // r9 never shows up: no drain time.
    expect(a.drainMs).toBeNull();
  });

  it('zero lost once everything acknowledged was processed', async () => {
    processed.clear();
    processed.set('r1', 1);
    depth = 0;
    const a = await account({ urls: [url], adminToken: 't' }, [{ key: 'k1', runId: 'r1' }], { timeoutMs: 1_000 });
    expect(a).toMatchObject({ acknowledged: 1, found: 1, lost: 0, duplicated: 0 });
    expect(a.drainMs).not.toBeNull();
  });

  it('an unreachable accounting is an error, not a zero', async () => {
    const a = await account({ urls: ['http://127.0.0.1:1'], adminToken: 't' }, [{ key: 'k', runId: 'r' }], { timeoutMs: 100 });
    expect(a.error).toMatch(/unreachable/);
    expect(a.found).toBe(0);
  });
});
