// Requests per CPU-second of the load generator: the ClawStorm engine next to autocannon and wrk,
// side by side in one run, against an endpoint that is not the bottleneck.
//
//   node_modules/.bin/node bench/load-engine.ts [seconds] [--rounds 3] [--connections 50,500]
//
// The target is one HAProxy thread answering `200 ok` itself (bench/lib/target.ts), pinned to
// core 1; each generator runs in a process of its own pinned to core 0, so each is CPU-bound on
// one core and its cost is its own CPU time, not the machine's:
// - engine and autocannon (Node): process.cpuUsage() inside the child over the measured run,
//   after a 1 s warm-up in the same process (JIT, connections); all threads of the process count
//   (GC helpers, libuv). The child's whole-process CPU (start-up included) is recorded beside it.
// - wrk (C): the whole process's CPU from the waiting shell's cutime + cstime; its start-up is
//   negligible.
// Beside them a reference that is not a generator: raw Node sockets writing a fixed request per
// answer, with no HTTP parsing and no timing (bench/gen/floor.ts): the least any Node process can
// spend per request here, which bounds what a Node generator can reach against wrk.
// Generators take turns, in a rotated order each round, so a neighbour's load on a shared machine
// falls on all of them alike; the ratios of each round are taken, then their median. Absolute
// figures move with the machine's other load; the ratios are what the goals judge.
//
// Results: bench/results/load-engine.json; the Markdown table printed at the end is the one in
// bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../src/util/proc.ts';
import { lastJsonLine, runAccounted } from './lib/child.ts';
import { fmt, goalLine, median } from './lib/stats.ts';
import { canPin, startBenchTarget, type BenchTarget } from './lib/target.ts';
import { parseWrk } from './lib/wrk.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const node = process.execPath;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const positional = process.argv[2] !== undefined && !process.argv[2].startsWith('--') ? process.argv[2] : undefined;
const SECONDS = Math.min(Math.max(Number(flag('seconds') ?? positional ?? 5) || 5, 1), 60);
const ROUNDS = Math.min(Math.max(Number(flag('rounds') ?? 3) || 3, 1), 10);
const CONNECTIONS = (flag('connections') ?? '50,500').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 5_000);

type Tool = 'engine' | 'autocannon' | 'wrk' | 'floor';
/** `floor` is a reference, not a generator: raw Node sockets, no HTTP parsing (bench/gen/floor.ts). */
const TOOLS: readonly Tool[] = ['engine', 'autocannon', 'wrk', 'floor'];

interface Measurement {
  tool: Tool;
  connections: number;
  round: number;
  requests: number;
  errors: number;
  wallSeconds: number;
  /** The basis of every ratio: the generator's CPU over the measured run. */
  cpuSeconds: number;
  reqPerCpuSecond: number;
  /** cpuSeconds / wallSeconds: near 1 means the generator was CPU-bound on its core. */
  generatorCoreShare: number;
  /** HAProxy's CPU over the same wall time: near 1 would mean the target was the bottleneck. */
  targetCoreShare: number | null;
  /** Everyone else's CPU on the host during the run, in cores (the neighbours' load). */
  otherLoadCores: number | null;
  wholeProcessCpuSeconds: number;
  p50Ms: number | null;
  p99Ms: number | null;
  eventLoopP99Ms?: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function measure(tool: Tool, target: BenchTarget, connections: number, round: number, core: number | null): Promise<Measurement> {
  const argv =
    tool === 'wrk'
      ? ['/usr/bin/wrk', '-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', `${target.url}/`]
      : [node, path.join(here, 'gen', `${tool}.ts`), target.url, String(connections), String(SECONDS)];
  const child = await runAccounted(argv, { core, timeoutMs: (SECONDS * 2 + 30) * 1000, targetPid: target.pid });
  let r: { requests: number; errors: number; wallSeconds: number; cpuSeconds: number; p50Ms: number | null; p99Ms: number | null; eventLoopP99Ms?: number };
  if (tool === 'wrk') {
    const w = parseWrk(child.stdout);
    r = { requests: w.requests, errors: w.errors, wallSeconds: w.seconds, cpuSeconds: child.wholeProcessCpuSeconds, p50Ms: w.p50Ms, p99Ms: w.p99Ms };
  } else {
    const j = lastJsonLine(child.stdout);
    r = {
      requests: num(j.requests),
      errors: num(j.errors),
      wallSeconds: num(j.wallSeconds),
      cpuSeconds: num(j.cpuSeconds),
      p50Ms: numOrNull(j.p50Ms),
      p99Ms: numOrNull(j.p99Ms),
      ...(typeof j.eventLoopP99Ms === 'number' ? { eventLoopP99Ms: j.eventLoopP99Ms } : {}),
    };
  }
  return {
    tool,
    connections,
    round,
    ...r,
    reqPerCpuSecond: r.cpuSeconds > 0 ? r.requests / r.cpuSeconds : Number.NaN,
    generatorCoreShare: r.cpuSeconds / r.wallSeconds,
    targetCoreShare: child.targetCoreShare,
    otherLoadCores: child.otherLoadCores,
    wholeProcessCpuSeconds: child.wholeProcessCpuSeconds,
  };
}

interface Summary {
  connections: number;
  tools: Record<Tool, { reqPerCpuSecond: number; p50Ms: number; p99Ms: number; generatorCoreShare: number; targetCoreShare: number }>;
  /** Median over rounds of each round's engine ÷ tool ratio. */
  engineOverAutocannon: number;
  engineOverWrk: number;
  engineOverFloor: number;
  engineEventLoopP99Ms: number;
}

function summarise(rows: readonly Measurement[], connections: number): Summary {
  const of = (tool: Tool) => rows.filter((r) => r.tool === tool && r.connections === connections);
  const med = (tool: Tool, f: (m: Measurement) => number | null | undefined) => median(of(tool).map((m) => f(m) ?? Number.NaN));
  const tools = Object.fromEntries(
    TOOLS.map((t) => [
      t,
      {
        reqPerCpuSecond: med(t, (m) => m.reqPerCpuSecond),
        p50Ms: med(t, (m) => m.p50Ms),
        p99Ms: med(t, (m) => m.p99Ms),
        generatorCoreShare: med(t, (m) => m.generatorCoreShare),
        targetCoreShare: med(t, (m) => m.targetCoreShare),
      },
    ]),
  ) as Summary['tools'];
  const ratio = (tool: Tool): number => {
    const per = new Map<number, Partial<Record<Tool, number>>>();
    for (const m of rows.filter((r) => r.connections === connections)) per.set(m.round, { ...per.get(m.round), [m.tool]: m.reqPerCpuSecond });
    return median([...per.values()].map((p) => (p.engine ?? Number.NaN) / (p[tool] ?? Number.NaN)));
  };
  return {
    connections,
    tools,
    engineOverAutocannon: ratio('autocannon'),
    engineOverWrk: ratio('wrk'),
    engineOverFloor: ratio('floor'),
    engineEventLoopP99Ms: med('engine', (m) => m.eventLoopP99Ms),
  };
}

function markdownTable(summaries: readonly Summary[]): string {
  const lines = [
    '| connections | generator | req per CPU-second | engine ÷ generator | p50 ms | p99 ms | generator core share | HAProxy core share |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summaries) {
    for (const t of TOOLS) {
      const x = s.tools[t];
      const r = t === 'engine' ? '1.00' : fmt(t === 'autocannon' ? s.engineOverAutocannon : t === 'wrk' ? s.engineOverWrk : s.engineOverFloor, 2);
      lines.push(`| ${s.connections} | ${t === 'floor' ? 'floor (raw Node sockets, reference)' : t} | ${fmt(x.reqPerCpuSecond)} | ${r} | ${fmt(x.p50Ms, 2)} | ${fmt(x.p99Ms, 2)} | ${fmt(x.generatorCoreShare, 2)} | ${fmt(x.targetCoreShare, 2)} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (findBinary('wrk') === undefined) throw new Error('wrk not found on PATH: install the Debian package "wrk"');
  const pin = canPin();
  const generatorCore = pin ? 0 : null;
  const target = await startBenchTarget({ core: pin ? 1 : null, maxconn: Math.max(...CONNECTIONS) * 2 + 100 });
  const rows: Measurement[] = [];
  try {
    console.log(
      `load-engine bench: ${SECONDS} s per generator, ${ROUNDS} rounds, connections ${CONNECTIONS.join(', ')}; target HAProxy ${target.url} ` +
        `${target.core === null ? '(not pinned)' : `on core ${target.core}`}, generators ${generatorCore === null ? 'not pinned' : `on core ${generatorCore}`}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        const order = TOOLS.map((_, i) => TOOLS[(i + round - 1) % TOOLS.length] as Tool);
        for (const tool of order) {
          const m = await measure(tool, target, connections, round, generatorCore);
          rows.push(m);
          console.log(
            `  round ${round} c=${connections} ${tool.padEnd(10)} ${fmt(m.requests).padStart(8)} req  cpu ${fmt(m.cpuSeconds, 2)} s  ${fmt(m.reqPerCpuSecond).padStart(6)} req/cpu-s  ` +
              `p50 ${fmt(m.p50Ms, 2)} p99 ${fmt(m.p99Ms, 2)} ms  core ${fmt(m.generatorCoreShare, 2)}  haproxy ${fmt(m.targetCoreShare, 2)}  others ${fmt(m.otherLoadCores, 2)} cores` +
              (m.eventLoopP99Ms === undefined ? '' : `  event-loop p99 ${fmt(m.eventLoopP99Ms, 1)} ms`) +
              (m.errors > 0 ? `  ERRORS ${m.errors}` : ''),
          );
        }
      }
    }
  } finally {
    await target.stop();
  }
  const summaries = CONNECTIONS.map((c) => summarise(rows, c));
  const goals = summaries.flatMap((s) => [
    goalLine(`engine ÷ autocannon, req per CPU-second, ${s.connections} connections`, s.engineOverAutocannon, '>=', 1.0),
    goalLine(`engine ÷ wrk, req per CPU-second, ${s.connections} connections`, s.engineOverWrk, '>=', 0.6),
  ]);
  const at50 = summaries.find((s) => s.connections === 50);
  if (at50 !== undefined) goals.push(goalLine('engine event-loop delay p99 at 50 VUs flat out', at50.engineEventLoopP99Ms, '<=', 10, ' ms'));
  const table = markdownTable(summaries);
  console.log(`\nmedian of ${ROUNDS} rounds (ratios: median of each round's ratio)\n\n${table}\n`);
  for (const g of goals) console.log(g.line);
  const errors = rows.filter((r) => r.errors > 0);
  if (errors.length > 0) console.log(`\nWARNING: ${errors.length} runs had errors; their figures are suspect`);

  const out = {
    bench: 'load-engine',
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverageAtStart: os.loadavg(),
    secondsPerRun: SECONDS,
    rounds: ROUNDS,
    pinned: pin,
    target: 'HAProxy, one thread, http-request return 200 "ok"',
    cpuAccounting:
      'engine, autocannon: process.cpuUsage() of the child over the measured run (after a 1 s warm-up); wrk: cutime+cstime of the waiting shell (whole process)',
    summaries,
    goals: goals.map(({ line: _line, ...g }) => g),
    runs: rows,
  };
  const file = path.join(here, 'results', 'load-engine.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
