import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchOpenClawGateways, type OpenClawFleet } from '../../harness/openclaw/launch.ts';
import { readResults, type Results } from '../../src/report/results.ts';
import { warmGateway } from './warm.ts';

// The three scenarios of scenarios/openclaw/ against ONE real OpenClaw gateway, through the CLI
// exactly as an operator runs them (`clawstorm run … --target`), scored from its results.json.
// A bare gateway has no Prometheus; the gate still wants one to answer, so a stand-in answers
// `vector(1)` and knows no series — every Metrics-to-monitor row is then no data, which a run of
// chosen scenarios reports without letting it decide the verdict.

const repo = path.resolve(import.meta.dirname, '../..');
const SCENARIOS = ['ws-connection-storm', 'tools-invoke', 'hook-storm'] as const;

let fleet: OpenClawFleet;
let prom: http.Server;
let dir: string;
let run: { code: number | null; stderr: string; results: Results };

/** A Prometheus that is up and has no data. */
async function emptyPrometheus(): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query = new URLSearchParams(body).get('query') ?? url.searchParams.get('query');
      const now = Date.now() / 1000;
      let data: unknown;
      if (url.pathname === '/api/v1/query') data = query === 'vector(1)' ? { resultType: 'vector', result: [{ metric: {}, value: [now, '1'] }] } : { resultType: 'vector', result: [] };
      else if (url.pathname === '/api/v1/query_range') data = { resultType: 'matrix', result: [] };
      else if (url.pathname === '/api/v1/targets') data = { activeTargets: [] };
      else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function clawstorm(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repo, 'bin/clawstorm'), args, { cwd: repo, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  fleet = await launchOpenClawGateways({ count: 1, readyTimeoutMs: 180_000 });
  const gw = fleet.gateways[0]!;
  const p = await emptyPrometheus();
  prom = p.server;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-interop-scenarios-'));
  fs.writeFileSync(path.join(dir, 'gateway.token'), gw.gatewayToken, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'hook.token'), gw.hookToken, { mode: 0o600 });
  // The websocket block is the one profiles/openclaw.yaml carries.
  fs.writeFileSync(
    path.join(dir, 'target.yaml'),
    `name: openclaw-interop
gateways:
  - { name: gw0, url: ${gw.baseUrl}, probePath: /readyz, probeKind: readyz }
lb: ${gw.baseUrl}
prometheus: { url: ${p.url} }
tokens:
  gateway: { file: gateway.token }
  hook: { file: hook.token }
websocket: { connectParams: {minProtocol: 4, maxProtocol: 4, client: {id: gateway-client, version: '0.1.0', platform: linux, mode: backend}, role: operator, scopes: [operator.read, operator.write], caps: []} }
`,
  );
  // The first hook after a start loads the agent runtime (seconds) and stalls every request behind
  // it; hook-storm measures a warm gateway (see its header), so warm it as any long-running one is.
  await warmGateway({ id: 'gw0', url: gw.baseUrl, gatewayToken: gw.gatewayToken, hookToken: gw.hookToken });
  const out = path.join(dir, 'out');
  const files = SCENARIOS.map((n) => `openclaw/${n}`);
  const r = await clawstorm(['run', ...files, '--profile', 'smoke', '--target', path.join(dir, 'target.yaml'), '--out', out]);
  if (!fs.existsSync(path.join(out, 'results.json'))) throw new Error(`clawstorm run wrote no results.json (exit ${r.code}):\n${r.stderr}`);
  run = { ...r, results: readResults(path.join(out, 'results.json')) };
}, 600_000);

afterAll(async () => {
  await fleet?.stop();
  await new Promise((r) => (prom ? prom.close(r) : r(undefined)));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const scenario = (name: string) => {
  const s = run.results.scenarios.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no ${name} in results.json`);
  return s;
};
const observed = (name: string, threshold: string): number | null => scenario(name).thresholds.find((t) => t.name === threshold)?.observed ?? null;

describe('scenarios/openclaw on one real gateway (clawstorm run --profile smoke)', () => {
  it('the run passes (exit 0) and every scenario passed its own thresholds', () => {
    const lines = run.results.scenarios
      .filter((s) => (SCENARIOS as readonly string[]).includes(s.name))
      .flatMap((s) => s.thresholds.map((t) => `${s.name}: ${t.verdict} ${t.name} (observed ${t.observed})`));
    console.log(lines.join('\n'));
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
    expect(run.results.verdict).toBe('pass');
    for (const n of SCENARIOS) {
      const s = scenario(n);
      expect(s.status, `${n}: ${s.thresholds.map((t) => `${t.verdict} ${t.name}: ${t.detail}`).join('; ')}`).toBe('Pass');
      expect(s.thresholds.length).toBeGreaterThan(0);
      expect(s.thresholds.every((t) => t.source === 'client' && t.verdict === 'pass')).toBe(true);
    }
    // No series exist on a bare gateway: the table is reported, as no data.
    expect(run.results.metrics.length).toBeGreaterThan(0);
    expect(run.results.metrics.every((m) => m.verdict === 'no_data')).toBe(true);
  });

  it('ws-connection-storm: 30 sessions connected, polled and closed, each scored on its own step', () => {
    const s = scenario('ws-connection-storm');
    // A latency threshold with no samples is no data, not pass: these prove the steps were recorded.
    const connectP95 = observed('ws-connection-storm', 'connect P95 < 2 s');
    const rpcP95 = observed('ws-connection-storm', 'RPC P95 < 500 ms');
    expect(connectP95).toBeGreaterThan(0);
    expect(rpcP95).toBeGreaterThan(0);
    expect(observed('ws-connection-storm', 'sessions.list P95 < 500 ms')).toBeGreaterThan(0);
    // 30 connects + 30 closes + 30 sessions × ≥ 9 ticks × 3 calls (10 s hold, 1 s ticks).
    expect(s.requests).toBeGreaterThanOrEqual(60 + 30 * 9 * 3);
    expect(s.errors).toBe(0);
    expect(s.extra.iterations_completed).toBe(30);
    console.log(`ws-connection-storm: connect p95 ${connectP95?.toFixed(1)} ms, rpc p95 ${rpcP95?.toFixed(1)} ms, ${s.requests} samples`);
  });

  it('tools-invoke and hook-storm ran at their rates without errors', () => {
    const tools = scenario('tools-invoke');
    const hooks = scenario('hook-storm');
    // Open model: 30/s × 15 s and 2/s × 15 s, one request per iteration.
    expect(tools.requests).toBeGreaterThanOrEqual(440);
    expect(hooks.requests).toBeGreaterThanOrEqual(29);
    expect(tools.errors + hooks.errors).toBe(0);
    console.log(`tools-invoke: p95 ${tools.p95?.toFixed(1)} ms (${tools.requests} calls); hook-storm: p95 ${hooks.p95?.toFixed(1)} ms (${hooks.requests} hooks)`);
  });
});
