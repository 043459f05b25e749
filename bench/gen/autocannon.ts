// One bench generator in a process of its own: autocannon (no pipelining, no rate) against URL
// for SECONDS after a 1 s warm-up. Prints one JSON line like bench/gen/engine.ts.
//   node bench/gen/autocannon.ts URL CONNECTIONS SECONDS
import autocannon from 'autocannon';

const [url = '', connArg = '50', secArg = '5'] = process.argv.slice(2);
const connections = Number(connArg);
const seconds = Number(secArg);

function run(durationS: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}/`, connections, pipelining: 1, duration: durationS }, (err: unknown, result: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
  });
}

await run(1);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await run(seconds);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    requests: r.requests.total,
    errors: r.errors + r.non2xx,
    wallSeconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    // autocannon's own histogram, whole milliseconds.
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  })}\n`,
);
