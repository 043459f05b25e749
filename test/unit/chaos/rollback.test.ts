// Rollback against stub admin endpoints (an in-process HTTP server): last change first, retried,
// failures kept in the journal for a later `drill rollback`.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../../src/faults/journal.ts';
import { rollback } from '../../../src/faults/rollback.ts';
import type { ChaosTarget } from '../../../src/target/target.ts';
import type { TargetProfile } from '../../../src/config/profile.ts';

let server: http.Server;
let url = '';
const calls: Array<{ method: string; path: string; body: unknown; auth: string | undefined }> = [];
let failNext = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', path: req.url ?? '', body: text ? (JSON.parse(text) as unknown) : undefined, auth: req.headers.authorization });
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function target(): ChaosTarget {
  const profile = { name: 'stub', file: '/stub.yaml', allowChaos: true, testbed: false, gateways: [], prometheus: { scrapeInterval: '1s', timeout: '1s' }, tokens: {}, metrics: [] } as unknown as TargetProfile;
  return {
    profile,
    tokens: { admin: 'admin-token-xxxxxxxxxxxx', gateway: 'primary-token-xxxxxxxxxx' },
    lbUrl: url,
    prom: undefined,
    promUrl: undefined,
    gateways: [
      { name: 'gw-1', url, az: 'az-a', server: 'gw-1', faults: undefined },
      { name: 'gw-2', url, az: 'az-b', server: 'gw-2', faults: undefined },
    ],
    haproxy: undefined,
    testbed: undefined,
    notifierUrl: url,
    ref: { kind: 'profile', file: '/stub.yaml' },
  };
}

describe('rollback', () => {
  it('undoes every change last-first, with the token values read at undo time', async () => {
    calls.length = 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-'));
    const j = Journal.create({ file: path.join(dir, 'j.json'), id: 'j', drill: 'd', target: { kind: 'profile', file: '/stub.yaml' } });
    const a = j.intent('slow', 'gw-2 latency', { kind: 'gateway.faults', gateway: 'gw-2', patch: { latencyMs: 0 } });
    j.mark(a, 'applied');
    const b = j.intent('overlap', 'tokens', { kind: 'gateway.tokens', gateways: ['gw-1', 'gw-2'], tokens: ['gateway'] });
    j.mark(b, 'applied');
    j.intent('admission', 'hooks', { kind: 'hooks.admission', gateway: 'gw-1', settings: { queueLimit: 100_000 } });
    j.intent('window', 'notifier', { kind: 'notifier.config', url, settings: { windowMs: 60_000 } });
    const out = await rollback(j, target());
    expect(out.ok).toBe(true);
    expect(out.undone).toHaveLength(4);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['PUT /admin/config', 'PUT /admin/hooks', 'PUT /admin/tokens', 'PUT /admin/tokens', 'PUT /admin/faults']);
    expect(calls[2]?.body).toEqual({ gateway: ['primary-token-xxxxxxxxxx'] });
    expect(calls.every((c) => c.auth === 'Bearer admin-token-xxxxxxxxxxxx')).toBe(true);
    expect(calls[4]?.body).toEqual({ latencyMs: 0 });
    const after = readJournal(j.file);
    expect(after.status).toBe('rolled-back');
    expect(after.entries.every((e) => e.state === 'rolled-back')).toBe(true);
    // A second rollback has nothing left to do.
    calls.length = 0;
    expect((await rollback(Journal.open(j.file), target())).undone).toHaveLength(0);
    expect(calls).toHaveLength(0);
    fs.rmSync(dir, { recursive: true });
  });

  it('retries a failing undo, and keeps what still fails for `drill rollback`', async () => {
    calls.length = 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rb-'));
    const j = Journal.create({ file: path.join(dir, 'j.json'), id: 'j', drill: 'd', target: { kind: 'profile', file: '/stub.yaml' } });
    j.intent('slow', 'gw-1 latency', { kind: 'gateway.faults', gateway: 'gw-1', patch: { latencyMs: 0 } });
    // No HAProxy runtime API on this target: that undo cannot succeed.
    j.intent('drain', 'canary', { kind: 'lb.state', server: 'gw-2', state: 'ready' });
    failNext = 1;
    const out = await rollback(j, target());
    expect(out.ok).toBe(false);
    expect(out.undone).toHaveLength(1);
    expect(out.failed[0]).toMatch(/drain: canary: .*HAProxy runtime API/);
    const after = readJournal(j.file);
    expect(after.status).toBe('rollback-failed');
    expect(after.entries.find((e) => e.step === 'drain')?.state).toBe('rollback-failed');
    expect(after.entries.find((e) => e.step === 'slow')?.state).toBe('rolled-back');
    expect(Journal.open(j.file).pending().map((e) => e.step)).toEqual(['drain']);
    fs.rmSync(dir, { recursive: true });
  });
});
