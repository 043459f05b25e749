// The notifier: one digest per window, deduplicated by status code with correlation ids, AZ and
// retry counts; a failing sink increments the fallback counter on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotifierConfigSchema } from '../../../harness/notifier/config.ts';
import { buildNotifier, readFallback, summarize, type Digest } from '../../../harness/notifier/server.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notifier-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ev = (status: number | string, id: string, gateway = 'gw-1', az = 'az-a', retryCount = 0) => ({ status, correlationId: id, gateway, az, retryCount });

function make(extra: Record<string, unknown> = {}, publish?: (d: Digest) => Promise<void>) {
  const config = NotifierConfigSchema.parse({ port: 1, windowMs: 60_000, sink: { kind: 'file', path: path.join(dir, 'digests.jsonl') }, fallbackFile: path.join(dir, 'fallback.json'), ...extra });
  return buildNotifier(config, publish ? { publish: async (_s, d) => publish(d) } : {});
}

describe('notifier', () => {
  it('one digest per window, deduplicated by status, carrying correlation ids, AZs, gateways and retry counts', async () => {
    const { app, state } = make();
    const r = await app.inject({ method: 'POST', url: '/events', payload: { events: [ev(429, 'a#0'), ev(429, 'b#2', 'gw-2', 'az-b', 2), ev(503, 'c#1', 'gw-2', 'az-b', 1)] } });
    expect(r.statusCode).toBe(202);
    await app.inject({ method: 'POST', url: '/events', payload: ev(429, 'd#3', 'gw-1', 'az-a', 3) });
    expect(state.received).toBe(4);
    const flushed = (await app.inject({ method: 'POST', url: '/flush' })).json() as { digest: Digest };
    const d = flushed.digest;
    expect(d.total).toBe(4);
    expect(d.published).toBe(true);
    expect(d.statuses.map((s) => [s.status, s.count])).toEqual([[429, 3], [503, 1]]);
    const s429 = d.statuses[0]!;
    expect(s429.correlationIds).toEqual(['a#0', 'b#2', 'd#3']);
    expect(s429.azs).toEqual({ 'az-a': 2, 'az-b': 1 });
    expect(s429.gateways).toEqual({ 'gw-1': 2, 'gw-2': 1 });
    expect(s429.retryCounts).toEqual({ '0': 1, '2': 1, '3': 1 });
    expect(s429.maxRetryCount).toBe(3);
    expect(d.summary).toBe('429 ×3 from gw-1, gw-2 (az-a, az-b), retries up to 3 · 503 ×1 from gw-2 (az-b), retries up to 1');
    // The sink got one line; an empty window publishes nothing.
    expect(fs.readFileSync(path.join(dir, 'digests.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect((await app.inject({ method: 'POST', url: '/flush' })).json()).toEqual({ digest: null });
    const list = (await app.inject({ method: 'GET', url: '/digests?after=0' })).json() as { digests: Digest[] };
    expect(list.digests.map((x) => x.id)).toEqual([1]);
  });

  it('a sink that fails: the events go to the fallback counter on disk, so digests + fallback account for all', async () => {
    const { app, state } = make({}, async () => {
      throw new Error('sink down');
    });
    await app.inject({ method: 'POST', url: '/events', payload: { events: [ev(429, 'a'), ev(429, 'b'), ev(500, 'c')] } });
    const d = ((await app.inject({ method: 'POST', url: '/flush' })).json() as { digest: Digest }).digest;
    expect(d.published).toBe(false);
    expect(d.error).toBe('sink down');
    const f = readFallback(path.join(dir, 'fallback.json'));
    expect(f).toMatchObject({ events: 3, digests: 1, byStatus: { '429': 2, '500': 1 } });
    await app.inject({ method: 'POST', url: '/events', payload: ev(503, 'd') });
    await state.closeWindow('flush');
    expect(readFallback(path.join(dir, 'fallback.json')).events).toBe(4);
    const stats = (await app.inject({ method: 'GET', url: '/stats' })).json() as { received: number; published: { events: number }; fallback: { events: number } };
    expect(stats.received).toBe(stats.published.events + stats.fallback.events);
  });

  it('a full window spills to the fallback counter; re-sent events (a gateway spool after a crash) are dropped', async () => {
    const { app, state } = make({ maxPending: 2 });
    await app.inject({ method: 'POST', url: '/events', payload: { events: [ev(429, 'a'), ev(429, 'b'), ev(429, 'c')] } });
    expect(state.overflow).toBe(1);
    expect(readFallback(path.join(dir, 'fallback.json')).events).toBe(1);
    const again = (await app.inject({ method: 'POST', url: '/events', payload: { events: [ev(429, 'a'), ev(429, 'b')] } })).json() as { accepted: number; duplicates: number };
    expect(again).toMatchObject({ accepted: 0, duplicates: 2 });
  });

  it('admin routes need the admin bearer when one is configured; the window can be changed', async () => {
    const { app } = make({ adminToken: 'admin-token-0123456789' });
    expect((await app.inject({ method: 'POST', url: '/flush' })).statusCode).toBe(401);
    const r = await app.inject({ method: 'PUT', url: '/admin/config', headers: { authorization: 'Bearer admin-token-0123456789' }, payload: { windowMs: 5_000 } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ windowMs: 5_000 });
    expect((await app.inject({ method: 'PUT', url: '/admin/config', headers: { authorization: 'Bearer admin-token-0123456789' }, payload: { windowMs: 1 } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/events', payload: { events: [{ status: 42, correlationId: 'x' }] } })).statusCode).toBe(400);
  });

  it('the timer closes windows on its own', async () => {
    const published: Digest[] = [];
    const { app, state } = make({ windowMs: 150 }, async (d) => {
      published.push(d);
    });
    state.start();
    await app.inject({ method: 'POST', url: '/events', payload: ev('disk-yellow', 'x') });
    for (let i = 0; i < 50 && published.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await state.stop();
    expect(published).toHaveLength(1);
    expect(published[0]?.closedBy).toBe('timer');
    expect(summarize(published[0]!.statuses)).toBe('disk-yellow ×1 from gw-1 (az-a), first attempts');
  });
});
