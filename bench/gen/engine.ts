// One bench generator in a process of its own: the ClawStorm engine (constant-vus, one GET per
// iteration, one keep-alive connection per VU) against URL for SECONDS after a 1 s warm-up.
// Prints one JSON line: requests, CPU seconds of this process over the measured run, latency,
// and the generator's own event-loop delay.
//   node bench/gen/engine.ts URL CONNECTIONS SECONDS
import { HttpDriver } from '../../src/load/drivers/http.ts';
import { runEngine, scenario } from '../../src/load/engine.ts';
import { SampleSink } from '../../src/load/samples.ts';

const [url = '', connArg = '50', secArg = '5'] = process.argv.slice(2);
const connections = Number(connArg);
const seconds = Number(secArg);

async function once(durationS: number): Promise<Record<string, unknown>> {
  const sink = new SampleSink();
  const http = new HttpDriver({ baseUrl: url, sink, connections });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await runEngine(
    [
      scenario({
        name: 'bench',
        executor: { executor: 'constant-vus', vus: connections, duration: `${durationS}s`, gracefulStop: '5s' },
        iteration: async (ctx) => {
          await http.journey(ctx).request('get', { path: '/' });
        },
      }),
    ],
    { sink, monitor: { cpuSustainedS: 3600 } },
  );
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - t0) / 1000;
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
  };
}

await once(1); // JIT and connections warm, as in any run past its first second
process.stdout.write(`${JSON.stringify(await once(seconds))}\n`);
