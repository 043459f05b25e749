import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { PromClient } from '../../src/prom/client.ts';
import { continueGateway, loadTestbed, readToken, stopGateway } from '../../src/testbed/control.ts';
import { showServersState, waitServerState } from '../../src/lb/runtime.ts';
import { DatabaseConfigError } from '../../src/testbed/database.ts';
import { stopTestbed } from '../../src/testbed/down.ts';
import { readState } from '../../src/testbed/state.ts';
import { ownsRecord } from '../../src/util/supervise.ts';
import { startTestbed } from '../../src/testbed/up.ts';
import { freePort, isListening } from '../../src/util/ports.ts';
import { findBinary, isAlive } from '../../src/util/proc.ts';

const tb = inject('testbed');

async function getJson(url: string, headers?: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

function promtool(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const bin = findBinary('promtool', 'PROMTOOL_BIN');
    if (!bin) return reject(new Error("promtool not found: install the Debian package 'prometheus'"));
    const child = execFile(bin, ['check', 'metrics'], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
    child.stdin?.end(text);
  });
}

describe('the local test bed', () => {
  it('Prometheus scrapes every target with up == 1, gateways and sidecars labelled per gateway', async () => {
    const prom = new PromClient({ url: tb.prometheus.url, timeoutMs: 5_000 });
    const r = await prom.instant('up');
    expect(r.type).toBe('vector');
    if (r.type !== 'vector') return;
    const down = r.series.filter((s) => s.v !== 1).map((s) => `${s.labels.job} ${s.labels.instance}`);
    expect(down).toEqual([]);
    const jobs = new Set(r.series.map((s) => s.labels.job));
    const expected = ['gateway', 'policy', 'upstreams', 'haproxy', ...tb.exporters.map((e) => e.job)];
    if (tb.database.kind === 'postgres') expect(tb.exporters.map((e) => e.job)).toContain('postgres');
    for (const job of expected) expect(jobs, `job ${job}`).toContain(job);
    const gw = r.series.filter((s) => s.labels.job === 'gateway');
    expect(gw.map((s) => `${s.labels.gateway}/${s.labels.az}`).sort()).toEqual(tb.gateways.map((g) => `${g.id}/${g.az}`).sort());
    const pol = r.series.filter((s) => s.labels.job === 'policy');
    expect(pol.map((s) => s.labels.gateway).sort()).toEqual(tb.gateways.map((g) => g.id).sort());
  });

  it('HAProxy lists every gateway UP with a passing composite-probe check', async () => {
    const servers = await showServersState(tb);
    expect(servers.map((s) => s.name).sort()).toEqual(tb.gateways.map((g) => g.server).sort());
    for (const s of servers) {
      expect(s.opState, s.name).toBe('UP');
      expect(s.checkStatus, s.name).toBe('L7OK');
    }
  });

  it('requests through the load balancer reach every gateway in round-robin order', async () => {
    const n = tb.gateways.length;
    const seen: string[] = [];
    for (let i = 0; i < 3 * n; i++) {
      const { status, body } = await getJson(`${tb.lb.url}/startupz`);
      expect(status).toBe(200);
      seen.push((body as { gateway: string }).gateway);
    }
    for (const g of tb.gateways) expect(seen.filter((x) => x === g.id), `${g.id} in ${seen.join(',')}`).toHaveLength(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i], seen.join(',')).not.toBe(seen[i - 1]);
  });

  it('every gateway and sidecar /metrics passes promtool check metrics', async () => {
    const findings: string[] = [];
    for (const url of [...tb.gateways.map((g) => g.url), ...tb.policies.map((p) => p.url)]) {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      const { code, output } = await promtool(await res.text());
      // promtool exits 1 on a parse error, 3 on lint problems; clean is 0 with nothing said.
      expect(code, `${url}/metrics: ${output}`).toBe(0);
      for (const line of output.split('\n').filter(Boolean)) findings.push(`${url}: ${line}`);
    }
    expect(findings).toEqual([]);
  });

  it('HAProxy takes a draining gateway out of rotation and back after reset', async () => {
    const gw = tb.gateways[0]!;
    const admin = { authorization: `Bearer ${readToken(tb, 'admin')}`, 'content-type': 'application/json' };
    try {
      const put = await fetch(`${gw.url}/admin/faults`, { method: 'PUT', headers: admin, body: JSON.stringify({ draining: true }), signal: AbortSignal.timeout(5_000) });
      expect(put.status).toBe(200);
      const probe = await getJson(`${gw.url}/keda/metrics`, { authorization: `Bearer ${readToken(tb, 'probe')}` });
      expect(probe.status).toBe(503);
      const down = await waitServerState(tb, gw.server, 'DOWN', 10_000);
      console.info(`${gw.id} draining → HAProxy DOWN after ${down.ms} ms`);
      // Out of rotation: the other gateways take every request.
      for (let i = 0; i < 2 * tb.gateways.length; i++) {
        const { body } = await getJson(`${tb.lb.url}/startupz`);
        expect((body as { gateway: string }).gateway).not.toBe(gw.id);
      }
    } finally {
      await fetch(`${gw.url}/admin/faults/reset`, { method: 'POST', headers: { authorization: admin.authorization }, signal: AbortSignal.timeout(5_000) });
    }
    const up = await waitServerState(tb, gw.server, 'UP', 10_000);
    console.info(`${gw.id} reset → HAProxy UP after ${up.ms} ms`);
  });

  it('a hung gateway (SIGSTOP) goes DOWN and comes back UP after SIGCONT', async () => {
    const gw = tb.gateways[1]!;
    try {
      const stop = await stopGateway(tb, gw.id, 'SIGSTOP');
      expect(stop.wasRunning).toBe(true);
      const down = await waitServerState(tb, gw.server, 'DOWN', 15_000);
      console.info(`${gw.id} SIGSTOP → HAProxy DOWN after ${down.ms} ms`);
    } finally {
      await continueGateway(tb, gw.id);
    }
    const up = await waitServerState(tb, gw.server, 'UP', 15_000);
    console.info(`${gw.id} SIGCONT → HAProxy UP after ${up.ms} ms`);
  });

  it('keeps tokens out of logs, the state file and world-readable files', () => {
    const { state } = loadTestbed(tb);
    const tokens = (['gateway', 'hook', 'admin', 'probe'] as const).map((k) => readToken(tb, k));
    const files = [path.join(tb.stateDir, 'state.json'), ...state.processes.map((p) => p.logFile)];
    for (const f of files) {
      const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
      for (const t of tokens) expect(text.includes(t), `token in ${f}`).toBe(false);
    }
    for (const f of [...Object.values(tb.tokenFiles), ...tb.gateways.map((g) => g.configFile), path.join(tb.stateDir, 'haproxy', 'haproxy.cfg')]) {
      expect(fs.statSync(f).mode & 0o077, f).toBe(0);
    }
  });
});

describe('test bed lifecycle', () => {
  it('down leaves no process and no listening port behind (replicas 1)', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-it-small-'));
    try {
      const t0 = Date.now();
      const ep = await startTestbed({ replicas: 1, stateDir });
      console.info(`replicas-1 bed up in ${Date.now() - t0} ms`);
      expect(ep.gateways).toHaveLength(1);
      const { processes } = readState(stateDir);
      const ports = processes.flatMap((p) => p.ports);
      expect(processes.length).toBeGreaterThanOrEqual(8);
      for (const p of processes) expect(ownsRecord(p), p.name).toBe(true);
      for (const port of ports) expect(await isListening(port), `port ${port}`).toBe(true);

      const report = await stopTestbed(stateDir);
      expect(report.problems).toEqual([]);
      expect(report.stopped.sort()).toEqual(processes.map((p) => p.name).sort());
      for (const p of processes) expect(isAlive(p.pid) && ownsRecord(p), `${p.name} pid ${p.pid}`).toBe(false);
      for (const port of ports) expect(await isListening(port), `port ${port}`).toBe(false);
      expect(fs.existsSync(ep.haproxy.socket)).toBe(false);

      const again = await stopTestbed(stateDir);
      expect(again.stopped).toEqual([]);
      expect(again.problems).toEqual([]);
    } finally {
      await stopTestbed(stateDir).catch(() => {});
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('a failed up cleans up what it had started', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-it-fail-'));
    try {
      // Nothing listens there: the database step fails while redis is already up.
      const dead = `postgres://u:pw@127.0.0.1:${await freePort()}/x`;
      await expect(startTestbed({ replicas: 1, stateDir, databaseUrl: dead })).rejects.toThrow(/cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
      const state = readState(stateDir);
      expect(state.phase).toBe('down');
      expect(state.error).toMatch(/cannot reach PostgreSQL/);
      expect(state.processes.map((p) => p.name)).toContain('redis');
      for (const p of state.processes) expect(ownsRecord(p), p.name).toBe(false);
      for (const port of state.processes.flatMap((p) => p.ports)) expect(await isListening(port), `port ${port}`).toBe(false);
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses a non-loopback DATABASE_URL before starting anything', async () => {
    const stateDir = path.join(os.tmpdir(), `clawstorm-it-refused-${process.pid}`);
    await expect(startTestbed({ replicas: 1, stateDir, databaseUrl: 'postgres://u:pw@192.0.2.1:5432/x' })).rejects.toThrow(DatabaseConfigError);
    expect(fs.existsSync(stateDir)).toBe(false);
  });
});
