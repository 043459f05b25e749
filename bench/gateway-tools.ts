// What ONE reference gateway replica sustains for policy-guarded POST /tools/invoke calls on this
// machine: requests/s and latency percentiles at a few connection counts, per tool.
//
//   node bench/gateway-tools.ts [--duration 10] [--connections 1,8,32,64] [--tools sessions_list,email_search]
//
// Target: CLAWSTORM_GATEWAY_URL (+ CLAWSTORM_GATEWAY_TOKEN or CLAWSTORM_GATEWAY_TOKEN_FILE) when
// set; otherwise a fresh local test bed with --replicas 1 is started and stopped, its upstream
// rate limits lifted so the gateway, not a provider budget, is what is measured.
//
// Every call does the whole path: auth → policy sidecar → tool → audit insert (acknowledged).
// `sessions_list` is the cheap tool (one Redis read); `email_search` adds one upstream read with
// the upstreams' simulated provider latency.
//
// Two kinds of runs per tool:
// - closed loop at each connection count (each connection sends its next request when the
//   previous answer arrives): the capacity curve. autocannon applies no coordinated-omission
//   back-fill without a rate, so the latencies are plain service times at that concurrency.
// - paced at 70 % of the best closed-loop rate (overallRate, 64 connections) with
//   ignoreCoordinatedOmission: true, so autocannon invents no samples (plan §11): the P95 a
//   replica gives at a sustainable rate.
// Latency of every response goes into an HDR histogram (exact P95; autocannon reports no P95).
// Results: bench/results/gateway-tools.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { startTestbed, stopTestbed } from '../src/testbed/index.ts';
import { readTokenFile } from '../src/testbed/tokens.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'bench/results/gateway-tools.json');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? def;
}
const durationS = Number(arg('duration', '10'));
const connectionSteps = arg('connections', '1,8,32,64').split(',').map(Number);
const tools = arg('tools', 'sessions_list,email_search').split(',');
const USERS = 1_000;

interface Run {
  tool: string;
  mode: 'closed' | 'paced';
  /** Paced runs: the requested overall rate (req/s). */
  targetRps: number | null;
  connections: number;
  durationS: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
}

async function runOne(url: string, token: string, tool: string, connections: number, rate?: number): Promise<Run> {
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  let seq = 0;
  let ok = 0;
  const args = tool === 'email_search' ? { query: 'is:unread', max: 10 } : {};
  let done: (r: autocannon.Result) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const instance = autocannon({
    url: `${url}/tools/invoke`,
    method: 'POST',
    connections,
    duration: durationS,
    timeout: 30,
    ...(rate !== undefined ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        // A new request id and a rotating user per request: distinct audit rows, and no single
        // user's provider budget is what gets measured.
        setupRequest: (req) => {
          seq++;
          return {
            ...req,
            headers: { ...req.headers, 'x-request-id': `bench-${process.pid}-${seq}`, 'x-user-id': `u-bench-${seq % USERS}` },
            body: JSON.stringify({ tool, args }),
          };
        },
      },
    ],
  }, (err, result) => (err ? failed(err instanceof Error ? err : new Error(String(err))) : done(result)));
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    hist.recordValue(Math.max(1, Math.round(responseTime * 1000)));
    if (statusCode === 200) ok++;
  });
  const r = await finished;
  const us = (p: number) => Math.round(hist.getValueAtPercentile(p)) / 1000;
  const run: Run = {
    tool,
    mode: rate === undefined ? 'closed' : 'paced',
    targetRps: rate ?? null,
    connections,
    durationS,
    requests: r.requests.total,
    ok,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rps: Math.round((ok / r.duration) * 10) / 10,
    latencyMs: { p50: us(50), p95: us(95), p99: us(99), max: Math.round(hist.maxValue) / 1000, mean: Math.round(hist.mean) / 1000 },
  };
  hist.destroy();
  return run;
}

async function main(): Promise<void> {
  let url = process.env.CLAWSTORM_GATEWAY_URL;
  let token = process.env.CLAWSTORM_GATEWAY_TOKEN;
  if (url !== undefined && token === undefined && process.env.CLAWSTORM_GATEWAY_TOKEN_FILE !== undefined) token = readTokenFile(process.env.CLAWSTORM_GATEWAY_TOKEN_FILE);
  let stateDir: string | undefined;
  let target: Record<string, unknown>;
  if (url !== undefined) {
    if (token === undefined) throw new Error('CLAWSTORM_GATEWAY_URL is set: also set CLAWSTORM_GATEWAY_TOKEN or CLAWSTORM_GATEWAY_TOKEN_FILE');
    target = { kind: 'external', url };
  } else {
    process.stderr.write('starting a local test bed with 1 replica…\n');
    const tb = await startTestbed({ replicas: 1 });
    stateDir = tb.stateDir;
    const gw = tb.gateways[0];
    if (gw === undefined) throw new Error('test bed has no gateway');
    url = gw.url;
    token = readTokenFile(tb.tokenFiles.gateway);
    const admin = readTokenFile(tb.tokenFiles.admin);
    const lift = { global: null, limits: Object.fromEntries(['gmail', 'calendar', 'jira', 'github', 'gdrive'].map((p) => [p, { perUser: null, perApp: null }])) };
    const r = await fetch(`${tb.upstreams.url}/admin/config`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(lift) });
    if (!r.ok) throw new Error(`could not lift upstream limits: ${r.status}`);
    target = { kind: 'local-testbed', replicas: 1, gateway: gw.id, database: tb.database.kind, upstreamLatency: (await (await fetch(`${tb.upstreams.url}/admin/config`, { headers: { authorization: `Bearer ${admin}` } })).json()) as unknown };
  }
  const runs: Run[] = [];
  try {
    for (const tool of tools) {
      // Warm-up: JIT, connection pools, policy and DB caches.
      await runOne(url, token, tool, 4).catch(() => undefined);
      const show = (run: Run) =>
        process.stderr.write(
          `${tool.padEnd(14)} ${run.mode === 'closed' ? `c=${String(run.connections).padStart(3)}` : `@${run.targetRps}/s`.padEnd(5)}  ${String(run.rps).padStart(8)} req/s  p50 ${run.latencyMs.p50} ms  p95 ${run.latencyMs.p95} ms  p99 ${run.latencyMs.p99} ms  non-2xx ${run.non2xx}  errors ${run.errors}\n`,
        );
      for (const c of connectionSteps) {
        const run = await runOne(url, token, tool, c);
        runs.push(run);
        show(run);
      }
      const best = Math.max(...runs.filter((r) => r.tool === tool && r.non2xx === 0 && r.errors === 0).map((r) => r.rps), 0);
      if (best > 0) {
        const run = await runOne(url, token, tool, 64, Math.max(1, Math.floor(best * 0.7)));
        runs.push(run);
        show(run);
      }
    }
  } finally {
    if (stateDir !== undefined) await stopTestbed(stateDir, { purge: true }).catch((err: unknown) => process.stderr.write(`test bed stop failed: ${(err as Error).message}\n`));
  }
  const result = {
    bench: 'gateway-tools',
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    target,
    /** Free text recorded with the result (what was special about this run). */
    note: process.env.CLAWSTORM_BENCH_NOTE ?? null,
    method: 'autocannon; closed loop per connection count (no rate, so no coordinated-omission back-fill), then paced at 70% of the best closed-loop rate with overallRate + ignoreCoordinatedOmission: true; latency per response into an HDR histogram; rps counts 200 answers only',
    runs,
    best: Object.fromEntries(tools.map((t) => [t, runs.filter((r) => r.tool === t && r.mode === 'closed' && r.non2xx === 0 && r.errors === 0).sort((a, b) => b.rps - a.rps)[0] ?? null])),
    sustained: Object.fromEntries(tools.map((t) => [t, runs.find((r) => r.tool === t && r.mode === 'paced') ?? null])),
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`wrote ${path.relative(ROOT, OUT)}\n`);
}

await main();
