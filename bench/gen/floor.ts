// A reference, not a load generator: what Node's socket layer alone costs per request on this
// machine. CONNECTIONS raw TCP connections, each writing a fixed GET and writing the next one when
// any bytes come back (the bench target's answer is one small segment); no HTTP parsing, no
// timing, no histogram. No Node generator can be cheaper per request than this.
//   node bench/gen/floor.ts URL CONNECTIONS SECONDS
import net from 'node:net';

const [url = '', connArg = '50', secArg = '5'] = process.argv.slice(2);
const u = new URL(url);
const connections = Number(connArg);
const seconds = Number(secArg);
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);

let responses = 0;
let stopping = false;

function run(durationS: number): Promise<void> {
  stopping = false;
  return new Promise((resolve, reject) => {
    let open = connections;
    const timer = setTimeout(() => {
      stopping = true;
    }, durationS * 1000);
    for (let i = 0; i < connections; i++) {
      const s = net.connect(Number(u.port), u.hostname, () => s.write(request));
      s.setNoDelay(true);
      s.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.on('data', () => {
        responses += 1;
        if (!stopping) {
          s.write(request);
          return;
        }
        s.destroy();
        open -= 1;
        if (open === 0) resolve();
      });
    }
  });
}

await run(1);
responses = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await run(seconds);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ requests: responses, errors: 0, wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, p50Ms: null, p99Ms: null })}\n`,
);
