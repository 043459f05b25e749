// The WebSocket bench's generator, in a process of its own (run with --expose-gc): the engine
// holds SESSIONS sessions of the gateway frame protocol (one per VU, opened in vuSetup, spread
// over the gateway URLs) and drives RATE `sessions.list` RPCs a second over them for HOLD seconds
// (constant-arrival-rate), then closes them. Prints one JSON line: sessions held, RPCs and frames
// per CPU-second of this process, and memory per session at three points of the hold.
//   node --expose-gc bench/gen/ws.ts URLS(comma-separated) TOKEN_FILE SESSIONS HOLD_S RATE
import fs from 'node:fs';
import { WsSession } from '../../src/load/drivers/ws.ts';
import { runEngine, scenario } from '../../src/load/engine.ts';
import { mergeEncoded } from '../../src/load/histogram.ts';
import { SampleSink } from '../../src/load/samples.ts';

const [urlsArg = '', tokenFile = '', sessionsArg = '10000', holdArg = '30', rateArg = '2000'] = process.argv.slice(2);
const urls = urlsArg.split(',').filter(Boolean);
const token = fs.readFileSync(tokenFile, 'utf8').trim();
const SESSIONS = Number(sessionsArg);
const HOLD_S = Number(holdArg);
const RATE = Number(rateArg);
/** Handshakes in flight at once: 10,000 at once would only measure the gateways' accept queues. */
const OPENING = 200;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

interface MemPoint {
  at: string;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}
const memory = (at: string, collect: boolean): MemPoint => {
  if (collect) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { at, rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external };
};

// A tiny semaphore for the handshakes: bench code, not the engine's business.
let opening = 0;
const waiting: Array<() => void> = [];
async function gate<T>(fn: () => Promise<T>): Promise<T> {
  if (opening >= OPENING) await new Promise<void>((r) => waiting.push(r));
  opening += 1;
  try {
    return await fn();
  } finally {
    opening -= 1;
    waiting.shift()?.();
  }
}

const sink = new SampleSink();
let events = 0;

// Warm the code paths with one session, so the baseline includes the modules and JIT code.
const warm = await WsSession.connect(urls[0] as string, token, { sink: new SampleSink(), scenario: 'warm' });
await warm.call('sessions.list', {});
await warm.close();
const base = memory('before', true);

const points: MemPoint[] = [];
let rssHighWater = 0;
const t0 = performance.now();
const sampler = setInterval(() => {
  rssHighWater = Math.max(rssHighWater, process.memoryUsage().rss);
}, 250);
let marks: NodeJS.Timeout[] = [];
// Memory at three points of the hold: RSS and V8's reserved heap as they are; at the last one
// after a forced GC too, so live heap is live objects (one pause, once, in the event-loop figures).
const markHold = (): void => {
  marks = [0.1, 0.5, 0.95].map((f) => setTimeout(() => points.push(memory(`${Math.round(f * 100)} % of the hold`, f > 0.9)), f * HOLD_S * 1000));
};
let cpuHold: NodeJS.CpuUsage | undefined;
let cpuSetup: NodeJS.CpuUsage | undefined;
const cpu0 = process.cpuUsage();
let setupDone = 0;

const r = await runEngine(
  [
    scenario<WsSession>({
      name: 'ws-hold',
      executor: { executor: 'constant-arrival-rate', rate: RATE, duration: `${HOLD_S}s`, preAllocatedVUs: SESSIONS, gracefulStop: '5s' },
      // Each VU's setup includes its wait for a handshake slot: 10,000 of them queue for a while.
      setupTimeoutMs: 600_000,
      vuSetup: async (vu, signal) => {
        const s = await gate(() =>
          WsSession.connect(urls[vu % urls.length] as string, token, { sink, scenario: 'ws-hold', step: 'open', signal, connectTimeoutMs: 60_000, callTimeoutMs: 10_000 }),
        );
        s.onEvent(() => {
          events += 1;
        });
        setupDone += 1;
        if (setupDone === SESSIONS) cpuSetup = process.cpuUsage(cpu0);
        return s;
      },
      vuTeardown: async (_vu, s) => {
        await s.close(5_000);
      },
      iteration: async (ctx) => {
        if (cpuHold === undefined) {
          cpuHold = process.cpuUsage();
          markHold();
        }
        await ctx.state.call('sessions.list', {}, { ctx, step: 'rpc' });
      },
    }),
  ],
  { sink, monitor: { cpuSustainedS: 3600 } },
);
const cpuHoldUsed = cpuHold === undefined ? undefined : process.cpuUsage(cpuHold);
clearInterval(sampler);
for (const m of marks) clearTimeout(m);

const opened = r.summary.tagSets.filter((t) => t.tags.method === 'connect' && t.tags.status_class === '2xx').reduce((a, t) => a + t.count, 0);
const rpc = r.summary.tagSets.filter((t) => t.tags.step === 'rpc');
const rpcs = rpc.reduce((a, t) => a + t.count, 0);
const rpcErrors = rpc.reduce((a, t) => a + t.errors, 0);
const rpcHist = rpc.length === 0 ? undefined : mergeEncoded(rpc.map((t) => t.histogram));
const holdCpuSeconds = cpuHoldUsed === undefined ? Number.NaN : (cpuHoldUsed.user + cpuHoldUsed.system) / 1e6;
// Frames of the hold: each RPC is a request and a response; tick events come on their own.
const frames = 2 * rpcs + events;
const perSession = (p: MemPoint, i: number, all: MemPoint[]) => ({
  at: p.at,
  afterGc: i === all.length - 1,
  rssBytesPerSession: Math.round((p.rssBytes - base.rssBytes) / SESSIONS),
  heapUsedBytesPerSession: Math.round((p.heapUsedBytes - base.heapUsedBytes) / SESSIONS),
  heapTotalBytesPerSession: Math.round((p.heapTotalBytes - base.heapTotalBytes) / SESSIONS),
});
process.stdout.write(
  `${JSON.stringify({
    sessions: SESSIONS,
    opened,
    openErrors: r.summary.tagSets.filter((t) => t.tags.method === 'connect' && t.tags.status_class !== '2xx').reduce((a, t) => a + t.count, 0),
    setupFailures: r.scenarios[0]?.result.setupFailures ?? null,
    setupCpuSeconds: cpuSetup === undefined ? null : (cpuSetup.user + cpuSetup.system) / 1e6,
    holdSeconds: HOLD_S,
    rpcs,
    rpcErrors,
    events,
    frames,
    holdCpuSeconds,
    rpcPerCpuSecond: rpcs / holdCpuSeconds,
    framesPerCpuSecond: frames / holdCpuSeconds,
    rpcP50Ms: rpcHist === undefined ? null : rpcHist.percentileMs(50),
    rpcP99Ms: rpcHist === undefined ? null : rpcHist.percentileMs(99),
    planned: r.scenarios[0]?.result.planned ?? null,
    started: r.scenarios[0]?.result.started ?? null,
    dropped: r.scenarios[0]?.result.dropped ?? null,
    eventLoopP99Ms: r.monitor.eventLoopP99Ms,
    pacerLagP99Ms: r.monitor.pacerLagP99Ms,
    saturated: r.monitor.saturated,
    saturationReasons: r.monitor.reasons,
    baseline: base,
    memory: points.map(perSession),
    rssHighWaterBytesPerSession: Math.round((rssHighWater - base.rssBytes) / SESSIONS),
    wallSeconds: (performance.now() - t0) / 1000,
  })}\n`,
);
