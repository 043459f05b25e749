// Run events through @grafana/faro-core: the NDJSON file holds faro-core's own item payloads, a
// local Faro receiver on 127.0.0.1 gets the receiver's JSON shape, and a receiver that is down,
// hangs or cannot keep up never fails or holds up the run — what it missed is counted.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { EventEvent, LogEvent, MeasurementEvent, TransportBody } from '@grafana/faro-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drillEventName, emitDrill, emitScenarioWindows } from '../../../src/events/emit.ts';
import { readEventLines } from '../../../src/events/ndjson.ts';
import { RunEvents } from '../../../src/events/run-events.ts';
import { eventsRecord } from '../../../src/events/section.ts';
import { recordChaosRun } from '../../../src/events/chaos-run.ts';
import { parseResults } from '../../../src/report/results.ts';
import { writeReports } from '../../../src/report/write.ts';
import { storedRun } from '../baseline/runs.ts';

let tmp: string;
const servers: http.Server[] = [];
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-faro-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A Faro receiver on 127.0.0.1: records every POSTed body; `mode` hangs or refuses. */
async function receiver(mode: 'ok' | 'hang' | 'http500' = 'ok'): Promise<{ url: string; bodies: TransportBody[] }> {
  const bodies: TransportBody[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      if (mode === 'hang') return;
      if (mode === 'http500') return void res.writeHead(500).end();
      bodies.push(JSON.parse(data) as TransportBody);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/collect`, bodies };
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}/collect`;
}

const isIso = (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s);

function lifecycle(ev: RunEvents): void {
  ev.event('run_start', { kind: 'gate' });
  ev.event('scenario_start', { scenario: 'policy-evaluation' });
  emitScenarioWindows(ev, 'policy-evaluation', Array.from({ length: 12 }, (_, i) => ({ t: 1_800_000_000 + i, count: 50, errors: i === 3 ? 1 : 0, p50: 5, p95: 9, p99: 12 + i, max: 20 })));
  ev.event('scenario_end', { scenario: 'policy-evaluation', status: 'Pass', requests: 600 });
  emitDrill(ev, { name: 'gateway-pair', status: 'Pass', startedAt: new Date().toISOString(), events: [{ t: 1, label: 'gw-1 crashed (SIGKILL)', kind: 'fault' }, { t: 5, label: 'restart the victim', kind: 'recover' }, { t: 6, label: 'rollbacks: 0 change(s) to undo', kind: 'phase' }] });
  ev.event('verdict', { verdict: 'pass', exit_code: 0 });
  ev.log('fault journal rolled back', 'info', { drill: 'gateway-pair' });
  ev.event('run_end', { verdict: 'pass' });
}

describe('events.ndjson', () => {
  it('holds faro-core payloads: events, per-window measurements and logs, with the session meta once', async () => {
    const ev = new RunEvents({ runId: 'run-42', outDir: tmp, app: 'nightly', attributes: { profile: 'smoke', target: 'local' } });
    lifecycle(ev);
    const summary = await ev.close();
    const read = readEventLines(summary.file)!;
    expect(read.unreadable).toBe(0);
    const [meta, ...rest] = read.lines;
    expect(meta).toMatchObject({ type: 'meta', payload: { app: { name: 'nightly' }, session: { id: 'run-42' } } });
    expect(rest.some((l) => l.type === 'meta')).toBe(false);
    const events = rest.filter((l) => l.type === 'event').map((l) => l.payload as EventEvent);
    expect(events.map((e) => e.name)).toEqual(['run_start', 'scenario_start', 'scenario_end', 'drill_start', 'fault_injected', 'fault_rolled_back', 'fault_rolled_back', 'drill_end', 'verdict', 'run_end']);
    for (const e of events) {
      expect(e.domain).toBe('clawstorm');
      expect(isIso(e.timestamp)).toBe(true);
      expect(e.attributes).toMatchObject({ runId: 'run-42', profile: 'smoke', target: 'local' });
      for (const v of Object.values(e.attributes!)) expect(typeof v).toBe('string');
    }
    const windows = rest.filter((l) => l.type === 'measurement').map((l) => l.payload as MeasurementEvent);
    expect(windows).toHaveLength(3); // 12 seconds in 5 s windows
    expect(windows[0]!).toMatchObject({ type: 'clawstorm_window', context: { scenario: 'policy-evaluation', runId: 'run-42' }, values: { requests: 250, errors: 1, p99_ms: 16 } });
    const logs = rest.filter((l) => l.type === 'log').map((l) => l.payload as LogEvent);
    expect(logs).toEqual([expect.objectContaining({ message: 'fault journal rolled back', level: 'info' })]);
    expect(summary).toMatchObject({ written: rest.length, fileError: null, receiver: null });
  });

  it('a drill or storm run is told after it ended: its timeline at its own times, then the verdict', async () => {
    const startedAt = '2026-01-01T00:00:00.000Z';
    const rec = await recordChaosRun(tmp, { runId: 'drill-1', startedAt, profile: 'smoke', target: 'local', verdict: 'fail', exitCode: 1, drills: [{ name: 'gateway-pair', status: 'Fail', startedAt, events: [{ t: 4.7, label: 'gw-1 crashed (SIGKILL)', kind: 'fault' }, { t: 22.9, label: 'restart the victim', kind: 'recover' }] }] }, 'drill');
    expect(rec).toMatchObject({ file: 'events.ndjson', receiver: null });
    const events = readEventLines(path.join(tmp, 'events.ndjson'))!.lines.flatMap((l) => (l.type === 'event' ? [l.payload] : []));
    expect(events.map((e) => e.name)).toEqual(['run_start', 'drill_start', 'fault_injected', 'fault_rolled_back', 'drill_end', 'verdict', 'run_end']);
    expect(events[2]!.timestamp).toBe('2026-01-01T00:00:04.700Z');
    expect(events[3]!.timestamp).toBe('2026-01-01T00:00:22.900Z');
  });

  it('drill timeline kinds map to fault_injected / fault_rolled_back / drill_phase', () => {
    expect(drillEventName({ label: 'gw-1 paused', kind: 'fault' })).toBe('fault_injected');
    expect(drillEventName({ label: 'gw-1 started again', kind: 'recover' })).toBe('fault_rolled_back');
    expect(drillEventName({ label: 'rollbacks: 2 change(s) to undo', kind: 'phase' })).toBe('fault_rolled_back');
    expect(drillEventName({ label: 'method starts', kind: 'phase' })).toBe('drill_phase');
  });

  it('report.html draws the timeline from the file beside it, with the receiver’s counts', async () => {
    const ev = new RunEvents({ runId: 'run-7', outDir: tmp });
    lifecycle(ev);
    const rec = eventsRecord(await ev.close(), tmp);
    const r = parseResults(storedRun('run-7', 1));
    const w = writeReports(tmp, { ...r, startedAt: new Date(Date.now() - 1000).toISOString(), events: { ...rec, receiver: { origin: 'http://alloy:12347', sent: 0, dropped: 12, failedPosts: 1, lastError: 'fetch failed' } } });
    const html = fs.readFileSync(w.html, 'utf8');
    expect(html).toMatch(/<h2>Run events<\/h2>/);
    expect(html).toMatch(/aria-label="Run events timeline"/);
    expect(html).toMatch(/fault_injected · gw-1 crashed \(SIGKILL\)/);
    expect(html).toMatch(/10 events and 3 per-window measurements in events.ndjson/);
    expect(html).toMatch(/Faro receiver http:\/\/alloy:12347: 0 sent, 12 dropped after 1 failed POST\(s\)/);
  });
});

describe('Faro receiver transport', () => {
  it('a live receiver gets batches in the receiver’s JSON shape: meta with app and session, events, measurements, logs', async () => {
    const rx = await receiver();
    const ev = new RunEvents({ runId: 'run-9', outDir: tmp, app: 'clawstorm-nightly', receiver: { url: rx.url, flushMs: 50 } });
    lifecycle(ev);
    const s = await ev.close();
    expect(s.receiver).toMatchObject({ sent: s.written, dropped: 0, failedPosts: 0, lastError: null });
    expect(rx.bodies.length).toBeGreaterThan(0);
    for (const b of rx.bodies) {
      expect(b.meta.app?.name).toBe('clawstorm-nightly');
      expect(b.meta.session?.id).toBe('run-9');
      expect(b.meta.sdk?.name).toBe('faro');
      expect(Object.keys(b).every((k) => ['meta', 'events', 'measurements', 'logs'].includes(k))).toBe(true);
    }
    const events = rx.bodies.flatMap((b) => b.events ?? []);
    const measurements = rx.bodies.flatMap((b) => b.measurements ?? []);
    const logs = rx.bodies.flatMap((b) => b.logs ?? []);
    expect(events.map((e) => e.name)).toContain('verdict');
    expect(events.length + measurements.length + logs.length).toBe(s.written);
    expect(measurements.every((m) => m.type === 'clawstorm_window' && Object.values(m.values).every((v) => typeof v === 'number'))).toBe(true);
  });

  it('a receiver that is down: emitting returns at once, nothing fails, every item is counted as dropped', async () => {
    const ev = new RunEvents({ runId: 'run-down', outDir: tmp, receiver: { url: await deadUrl(), flushMs: 10, batchSize: 5 } });
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) ev.event('drill_phase', { i });
    // 200 synchronous calls: none of them waited on the network.
    expect(performance.now() - t0).toBeLessThan(1000);
    const s = await ev.close(2000);
    expect(s.receiver!.sent).toBe(0);
    expect(s.receiver!.dropped).toBe(200);
    expect(s.receiver!.lastError).toBeTruthy();
    expect(s.written).toBe(200); // the file got everything
  });

  it('a receiver that hangs: the queue stays bounded and close() gives up at its deadline', async () => {
    const rx = await receiver('hang');
    const ev = new RunEvents({ runId: 'run-hang', outDir: tmp, receiver: { url: rx.url, maxQueue: 20, batchSize: 10, flushMs: 10, timeoutMs: 60_000 } });
    for (let i = 0; i < 100; i++) ev.event('drill_phase', { i });
    const t0 = performance.now();
    const s = await ev.close(300);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(s.receiver!.sent).toBe(0);
    expect(s.receiver!.dropped).toBe(100);
  });

  it('a receiver answering 500 is a failed POST, not an exception', async () => {
    const rx = await receiver('http500');
    const ev = new RunEvents({ runId: 'run-500', outDir: tmp, receiver: { url: rx.url, flushMs: 10 } });
    ev.event('run_start');
    ev.event('run_end');
    const s = await ev.close(2000);
    expect(s.receiver).toMatchObject({ sent: 0, dropped: 2, lastError: 'HTTP 500' });
    expect(s.receiver!.failedPosts).toBeGreaterThanOrEqual(1);
  });
});
