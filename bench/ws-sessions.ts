// How many gateway WebSocket sessions the generator holds, what each costs in memory, and how many
// frames it drives per CPU-second: against the reference gateways of a fresh local test bed.
//
//   node_modules/.bin/node bench/ws-sessions.ts [--sessions 10000] [--hold 30] [--rate 500]
//
// A test bed is started in a state dir of the bench's own (`testbed up --json --state-dir …`) and
// always taken down again (`testbed down --state-dir … --purge`), so no one else's bed is touched.
// The generator (bench/gen/ws.ts) runs in a process of its own: the engine opens one session per
// VU (at most 200 handshakes at a time), spread over the gateways directly (10,000 sessions are
// more than the bed's HAProxy maxconn), then drives `sessions.list` RPCs at a steady rate for the
// hold. Memory per session is measured twice, at half the sessions and at all of them, and the
// slope between the two runs is the cost of one more session, free of the fixed costs (code,
// V8's young generation) that a division by the session count would spread over them.
// Results: bench/results/ws-sessions.json.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestbedEndpointsSchema } from '../src/testbed/types.ts';
import { lastJsonLine, runChild } from './lib/child.ts';
import { fmt, goalLine } from './lib/stats.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

function flag(name: string, def: number, min: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  return Number.isFinite(v) ? Math.min(Math.max(Math.round(v), min), max) : def;
}
const SESSIONS = flag('sessions', 10_000, 10, 15_000);
const HOLD_S = flag('hold', 30, 5, 600);
const RATE = flag('rate', 500, 1, 50_000);

function cli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(root, 'src/cli/main.ts'), ...args], { cwd: root, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`clawstorm ${args.join(' ')} failed: ${err.message}\n${stderr.split('\n').slice(-15).join('\n')}`));
      else resolve(stdout);
    });
  });
}

interface GenResult {
  sessions: number;
  opened: number;
  openErrors: number;
  rpcs: number;
  rpcErrors: number;
  events: number;
  frames: number;
  holdCpuSeconds: number;
  rpcPerCpuSecond: number;
  framesPerCpuSecond: number;
  setupCpuSeconds: number | null;
  rpcP50Ms: number | null;
  rpcP99Ms: number | null;
  planned: number | null;
  started: number | null;
  dropped: number | null;
  eventLoopP99Ms: number;
  pacerLagP99Ms: number | null;
  baseline: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number };
  memory: Array<{ at: string; afterGc: boolean; rssBytesPerSession: number; heapUsedBytesPerSession: number; heapTotalBytesPerSession: number }>;
  rssHighWaterBytesPerSession: number;
}

async function generate(urls: string[], tokenFile: string, sessions: number): Promise<GenResult & { wholeProcessCpuSeconds: number }> {
  const child = await runChild(
    [process.execPath, '--expose-gc', path.join(here, 'gen', 'ws.ts'), urls.join(','), tokenFile, String(sessions), String(HOLD_S), String(RATE)],
    { core: null, timeoutMs: (HOLD_S + 600) * 1000 },
  );
  return { ...(lastJsonLine(child.stdout) as unknown as GenResult), wholeProcessCpuSeconds: child.wholeProcessCpuSeconds };
}

const kb = (b: number | undefined): string => (b === undefined ? '-' : (b / 1024).toFixed(1));

async function main(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-wsbench-'));
  let up = false;
  const runs: Array<GenResult & { wholeProcessCpuSeconds: number }> = [];
  try {
    console.log(`ws-sessions bench: ${SESSIONS} sessions (and ${Math.round(SESSIONS / 2)} for the slope), ${RATE} RPC/s for ${HOLD_S} s; starting a test bed in ${stateDir}`);
    const bed = TestbedEndpointsSchema.parse(JSON.parse(await cli(['testbed', 'up', '--json', '--state-dir', stateDir], 300_000)));
    up = true;
    const urls = bed.gateways.map((g) => g.url.replace(/^http/, 'ws'));
    console.log(`  test bed ${bed.id}: ${bed.gateways.length} gateways`);
    for (const n of [Math.round(SESSIONS / 2), SESSIONS]) {
      const r = await generate(urls, bed.tokenFiles.gateway, n);
      runs.push(r);
      const last = r.memory.at(-1);
      console.log(
        `  ${n} sessions: opened ${r.opened} (errors ${r.openErrors}); ${r.rpcs} RPCs (errors ${r.rpcErrors}), ${r.events} events; ` +
          `${fmt(r.framesPerCpuSecond)} frames per CPU-second (${fmt(r.rpcPerCpuSecond)} RPCs); RPC p50 ${fmt(r.rpcP50Ms, 2)} p99 ${fmt(r.rpcP99Ms, 2)} ms; ` +
          `per session: heap ${kb(last?.heapUsedBytesPerSession)} KB live, RSS ${kb(last?.rssBytesPerSession)} KB (high water ${kb(r.rssHighWaterBytesPerSession)} KB); ` +
          `event-loop p99 ${fmt(r.eventLoopP99Ms, 1)} ms; planned ${fmt(r.planned)} = started ${fmt(r.started)} + dropped ${fmt(r.dropped)}`,
      );
      for (const m of r.memory) console.log(`      ${m.at.padEnd(18)} RSS ${kb(m.rssBytesPerSession)} KB/session, heap reserved ${kb(m.heapTotalBytesPerSession)} KB, heap used ${kb(m.heapUsedBytesPerSession)} KB${m.afterGc ? ' (after GC)' : ''}`);
    }
  } finally {
    if (up || fs.existsSync(path.join(stateDir, 'state.json'))) {
      const down = await cli(['testbed', 'down', '--state-dir', stateDir, '--purge'], 120_000).catch((err: unknown) => `testbed down FAILED: ${String(err)}`);
      console.log(`  ${down.trim().split('\n').join('\n  ')}`);
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  const half = runs[0];
  const full = runs[1];
  if (half === undefined || full === undefined) throw new Error('the generator did not complete both runs');
  const lastOf = (r: GenResult) => r.memory.at(-1);
  const dn = full.sessions - half.sessions;
  const slope = (k: 'rssBytes' | 'heapUsedBytes') => {
    const a = lastOf(half);
    const b = lastOf(full);
    if (a === undefined || b === undefined) return Number.NaN;
    const abs = (r: GenResult, m: typeof a) => r.baseline[k] + (k === 'rssBytes' ? m.rssBytesPerSession : m.heapUsedBytesPerSession) * r.sessions;
    return (abs(full, b) - abs(half, a)) / dn;
  };
  const rssSlope = slope('rssBytes');
  const heapSlope = slope('heapUsedBytes');
  const first = full.memory[0];
  const end = lastOf(full);
  // Bounded: RSS at the end of the hold within 10 % of RSS early in the hold (no growth with frames).
  const growth = first !== undefined && end !== undefined ? end.rssBytesPerSession / first.rssBytesPerSession : Number.NaN;
  console.log(`\nper additional session (slope ${half.sessions} → ${full.sessions}): RSS ${kb(rssSlope)} KB, live heap ${kb(heapSlope)} KB`);
  const goals = [
    goalLine(`sessions held of ${full.sessions}`, full.opened, '>=', full.sessions),
    goalLine('RSS per session, end of hold ÷ early in the hold (bounded)', growth, '<=', 1.1),
  ];
  for (const g of goals) console.log(g.line);
  const out = {
    bench: 'ws-sessions',
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverageAtStart: os.loadavg(),
    sessions: SESSIONS,
    holdSeconds: HOLD_S,
    rpcPerSecond: RATE,
    perAdditionalSession: { rssBytes: Math.round(rssSlope), heapUsedBytes: Math.round(heapSlope) },
    goals: goals.map(({ line: _line, ...g }) => g),
    runs,
  };
  const file = path.join(here, 'results', 'ws-sessions.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
