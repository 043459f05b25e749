// One bench generator in a process of its own: the ClawStorm engine, one GET per iteration, one
// keep-alive connection per VU, against URL for SECONDS after a 1 s warm-up. Closed model
// (constant-vus, flat out) by default; with RATE, the open model (constant-arrival-rate, RATE
// starts/s on CONNECTIONS VUs). Prints one JSON line: requests, CPU seconds of this process over
// the measured run, latency, the generator's event-loop delay and, open model, pacer lateness.
//   node bench/gen/engine.ts URL CONNECTIONS SECONDS [RATE]
import { HttpDriver } from '../../src/load/drivers/http.ts';
import { runEngine, scenario } from '../../src/load/engine.ts';
import { SampleSink } from '../../src/load/samples.ts';

const [url = '', connArg = '50', secArg = '5', rateArg] = process.argv.slice(2);
const connections = Number(connArg);
const seconds = Number(secArg);
const rate = rateArg === undefined ? undefined : Number(rateArg);

async function once(durationS: number): Promise<Record<string, unknown>> {
  const sink = new SampleSink();
  const http = new HttpDriver({ baseUrl: url, sink, connections });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await runEngine(
    [
      scenario({
        name: 'bench',
        executor:
          rate === undefined
            ? { executor: 'constant-vus', vus: connections, duration: `${durationS}s`, gracefulStop: '5s' }
            : { executor: 'constant-arrival-rate', rate, duration: `${durationS}s`, preAllocatedVUs: connections, gracefulStop: '5s' },
        iteration: async (ctx) => {
          await http.journey(ctx).request('get', { path: '/' });
        },
      }),
    ],
    { sink, monitor: { cpuSustainedS: 3600 } },
  );
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - t0) / 1000;
  const connectionsUsed = http.stats().connected;
  await http.close();
  const s = r.summary.scenarios[0];
  return {
    requests: s?.count ?? 0,
    errors: s?.errors ?? 0,
    wallSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50Ms: s?.p50Ms ?? null,
    p99Ms: s?.p99Ms ?? null,
    eventLoopP99Ms: r.monitor.eventLoopP99Ms,
    eventLoopMaxMs: r.monitor.eventLoopMaxMs,
    pacerLagP99Ms: r.monitor.pacerLagP99Ms,
    pacerLagMaxMs: r.monitor.pacerLagMaxMs,
    planned: r.scenarios[0]?.result.planned ?? null,
    started: r.scenarios[0]?.result.started ?? null,
    dropped: r.scenarios[0]?.result.dropped ?? null,
    connectionsUsed,
    saturated: r.monitor.saturated,
    saturationReasons: r.monitor.reasons,
  };
}

await once(1); // JIT and connections warm, as in any run past its first second
process.stdout.write(`${JSON.stringify(await once(seconds))}\n`);
