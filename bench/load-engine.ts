// Requests per second per core of the load engine against a minimal local endpoint, next to
// autocannon and wrk in the same run. Run: node_modules/.bin/node bench/load-engine.ts [seconds]
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { HttpDriver } from '../src/load/drivers/http.ts';
import { runEngine, scenario } from '../src/load/engine.ts';
import { SampleSink } from '../src/load/samples.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Math.min(Math.max(Number(process.argv[2] ?? 4) || 4, 1), 30);
const CONNECTIONS = 50;

interface Row {
  tool: string;
  requests: number;
  seconds: number;
  reqPerSec: number;
  cpuSeconds: number;
  /** requests per CPU-second of the generator itself = req/s per core */
  reqPerSecPerCore: number;
  p50Ms: number | null;
  p99Ms: number | null;
  note: string;
}

async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(here, 'load-engine-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start within 10 s')), 10_000);
    child.stdout?.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve((JSON.parse(String(d).split('\n')[0] ?? '{}') as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
  return { port, child };
}

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

async function benchEngine(url: string): Promise<Row> {
  const sink = new SampleSink();
  const http = new HttpDriver({ baseUrl: url, sink, connections: CONNECTIONS });
  const cpu0 = process.cpuUsage();
  const r = await runEngine(
    [
      scenario({
        name: 'bench',
        executor: { executor: 'constant-vus', vus: CONNECTIONS, duration: `${SECONDS}s`, gracefulStop: '5s' },
        iteration: async (ctx) => {
          await http.journey(ctx).request('get', { path: '/' });
        },
      }),
    ],
    { sink, monitor: { cpuSustainedS: 3600 } },
  );
  const cpu = cpuSeconds(cpu0);
  await http.close();
  const s = r.summary.scenarios[0];
  const requests = s?.count ?? 0;
  const seconds = (r.endedAt - r.startedAt) / 1000;
  return {
    tool: 'clawstorm engine (constant-vus, undici Pool)',
    requests,
    seconds,
    reqPerSec: requests / seconds,
    cpuSeconds: cpu,
    reqPerSecPerCore: requests / cpu,
    p50Ms: s?.p50Ms ?? null,
    p99Ms: s?.p99Ms ?? null,
    note: `errors ${s?.errors ?? 0}; generator event-loop p99 ${r.monitor.eventLoopP99Ms} ms`,
  };
}

async function benchAutocannon(url: string, seconds: number): Promise<Row> {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const res = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err: unknown, result: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
  });
  const cpu = cpuSeconds(cpu0);
  const secs = (Date.now() - t0) / 1000;
  return {
    tool: 'autocannon (in-process)',
    requests: res.requests.total,
    seconds: secs,
    reqPerSec: res.requests.total / secs,
    cpuSeconds: cpu,
    reqPerSecPerCore: res.requests.total / cpu,
    p50Ms: res.latency.p50,
    p99Ms: res.latency.p99,
    note: `errors ${res.errors}, non2xx ${res.non2xx}; latency whole ms`,
  };
}

async function benchWrk(url: string): Promise<Row | undefined> {
  if (!fs.existsSync('/usr/bin/wrk')) return undefined;
  // bash waits for wrk, then its own /proc stat holds wrk's CPU in cutime/cstime (fields 16, 17).
  const script = `/usr/bin/wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency ${url}/ ; echo "@@STAT $(cat /proc/$$/stat)"; getconf CLK_TCK`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('/bin/bash', ['-c', script], { timeout: (SECONDS + 20) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  const stat = /@@STAT (.*)/.exec(out)?.[1] ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tck = Number(out.trim().split('\n').at(-1));
  // After ") ": field 3 is index 0, so cutime (16) and cstime (17) are indices 13 and 14.
  const cpu = (Number(fields[13]) + Number(fields[14])) / (tck || 100);
  const unit = (v: string, u: string): number => Number(v) * (u === 'us' ? 0.001 : u === 's' ? 1000 : u === 'm' ? 60_000 : 1);
  const lat = (pct: string): number | null => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m === null ? null : unit(m[1] as string, m[2] as string);
  };
  if (total === null) throw new Error(`could not read wrk output:\n${out}`);
  const requests = Number(total[1]);
  const secs = Number(total[2]) * (total[3] === 'ms' ? 0.001 : total[3] === 'm' ? 60 : 1);
  return {
    tool: 'wrk -t1 (Debian)',
    requests,
    seconds: secs,
    reqPerSec: requests / secs,
    cpuSeconds: cpu,
    reqPerSecPerCore: cpu > 0 ? requests / cpu : Number.NaN,
    p50Ms: lat('50'),
    p99Ms: lat('99'),
    note: 'one thread; CPU from the waiting shell\'s cutime/cstime',
  };
}

async function main(): Promise<void> {
  const { port, child } = await startServer();
  const url = `http://127.0.0.1:${port}`;
  try {
    await benchAutocannon(url, 1); // warm the server's JIT so the first tool is not penalised
    const rows: Row[] = [await benchEngine(url), await benchAutocannon(url, SECONDS)];
    const wrk = await benchWrk(url);
    if (wrk !== undefined) rows.push(wrk);
    const base = rows[0] as Row;
    const fmt = (n: number | null, d = 0): string => (n === null || Number.isNaN(n) ? '-' : n.toFixed(d));
    console.log(`\nload-engine bench: ${SECONDS}s per tool, ${CONNECTIONS} connections, minimal node:http endpoint (child process)\n`);
    console.log(['tool'.padEnd(46), 'req/s'.padStart(9), 'cpu s'.padStart(7), 'req/s/core'.padStart(11), 'engine ÷ tool'.padStart(14), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8)].join(' '));
    for (const r of rows) {
      console.log(
        [
          r.tool.padEnd(46),
          fmt(r.reqPerSec).padStart(9),
          fmt(r.cpuSeconds, 2).padStart(7),
          fmt(r.reqPerSecPerCore).padStart(11),
          fmt(base.reqPerSecPerCore / r.reqPerSecPerCore, 2).padStart(14),
          fmt(r.p50Ms, 2).padStart(8),
          fmt(r.p99Ms, 2).padStart(8),
        ].join(' '),
      );
    }
    const out = {
      bench: 'load-engine',
      at: new Date().toISOString(),
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      secondsPerTool: SECONDS,
      connections: CONNECTIONS,
      rows: rows.map((r) => ({ ...r, engineRatioPerCore: base.reqPerSecPerCore / r.reqPerSecPerCore })),
    };
    const file = path.join(here, 'results', 'load-engine.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
