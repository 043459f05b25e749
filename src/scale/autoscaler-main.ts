// The autoscaler process of a test bed (`testbed up --autoscale FILE`): `autoscaler-main.ts --config
// FILE`. It runs the live loop (live.ts), starts and stops replicas (testbed/replicas.ts), records
// every sync and every replica started or stopped in the bed's autoscale log, and serves
// `/healthz` and `/metrics` (its replica count, which Prometheus scrapes and the loop reads back).
// SIGTERM stops the loop, lets a start or stop in progress finish, and exits.
import fs from 'node:fs';
import http from 'node:http';
import client from 'prom-client';
import { PromClient } from '../prom/client.ts';
import { nextReplicaIds, replicaIds, startReplica, stopReplica } from '../testbed/replicas.ts';
import { AutoscalerConfigSchema, LiveAutoscaler, Reconciler } from './live.ts';
import { appendLog } from './log.ts';
import { queryAtClient } from './observe.ts';
import { buildPlan, type PlanOptions } from './plan.ts';
import { loadAutoscaler } from './source.ts';

/** `--config FILE`, validated; a bad file is exit 2 with one line per problem. */
function readConfig(argv: string[]) {
  const file = argv[argv.indexOf('--config') + 1];
  if (!argv.includes('--config') || file === undefined) {
    process.stderr.write('usage: autoscaler-main.ts --config FILE\n');
    process.exit(2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    process.stderr.write(`${file}: cannot read JSON config: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const parsed = AutoscalerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) process.stderr.write(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}\n`);
    process.exit(2);
  }
  return parsed.data;
}

/** One JSON line per event on stderr (the launcher sends it to logs/autoscaler.log). */
const line = (level: string) => (msg: string, fields?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, component: 'autoscaler', msg, ...fields })}\n`);
const log = { info: line('info'), error: line('error') };

const cfg = readConfig(process.argv.slice(2));
const loaded = loadAutoscaler(cfg.file, cfg.kind);
const plan = buildPlan(loaded.source, cfg.file, cfg.plan as PlanOptions);

const registry = new client.Registry();
const spec = new client.Gauge({ name: 'clawstorm_autoscaler_spec_replicas', help: 'Replicas the autoscaler asks the bed to run (scale.spec.replicas).', registers: [registry] });
const running = new client.Gauge({ name: 'clawstorm_autoscaler_running_replicas', help: 'Gateways the bed runs now.', registers: [registry] });
const lastSync = new client.Gauge({ name: 'clawstorm_autoscaler_last_sync_time_seconds', help: 'Grid time of the last sync (unix seconds).', registers: [registry] });
const syncs = new client.Counter({ name: 'clawstorm_autoscaler_syncs_total', help: 'Syncs evaluated, by outcome (decided, no_input, prometheus_error).', labelNames: ['outcome'] as const, registers: [registry] });
for (const o of ['decided', 'no_input', 'prometheus_error']) syncs.inc({ outcome: o }, 0);
spec.set(cfg.initialReplicas);
running.set(replicaIds(cfg.stateDir).length);

const stop = new AbortController();
const reserved = new Set<string>();
const actuate = async (action: 'start' | 'stop', id: string, fn: () => Promise<string | undefined>) => {
  const t0 = Date.now();
  try {
    const detail = await fn();
    appendLog(cfg.logFile, { kind: 'actuation', at: t0 / 1000, action, gateway: id, ok: true, ms: Date.now() - t0, ...(detail ? { detail } : {}) });
    log.info(`${action} ${id}`, { ms: Date.now() - t0 });
  } catch (err) {
    appendLog(cfg.logFile, { kind: 'actuation', at: t0 / 1000, action, gateway: id, ok: false, ms: Date.now() - t0, detail: (err as Error).message.slice(0, 300) });
    log.error(`${action} ${id} failed`, { error: (err as Error).message });
    throw err;
  } finally {
    running.set(replicaIds(cfg.stateDir).length);
  }
};
const reconciler = new Reconciler({
  list: () => replicaIds(cfg.stateDir),
  next: (existing, count) => {
    const ids = nextReplicaIds(existing, reserved, count);
    for (const id of ids) reserved.add(id);
    return ids;
  },
  start: (id) =>
    actuate('start', id, async () => {
      try {
        await startReplica(cfg.stateDir, id, { signal: stop.signal });
        return undefined;
      } finally {
        reserved.delete(id);
      }
    }),
  stop: (id) =>
    actuate('stop', id, async () => {
      const r = await stopReplica(cfg.stateDir, id, { drainTimeoutMs: cfg.drainTimeoutMs });
      return r.leftOpen > 0 ? `${r.leftOpen} session(s) still open after the drain deadline` : undefined;
    }),
  signal: stop.signal,
});

const live = new LiveAutoscaler(cfg, loaded, plan, {
  query: queryAtClient(new PromClient({ url: cfg.prometheusUrl, timeoutMs: 5_000 })),
  now: () => Date.now() / 1000,
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    }),
  actuator: reconciler,
  onSpec: (n) => spec.set(n),
  onSync: (t, d) => {
    lastSync.set(t);
    syncs.inc({ outcome: d === null ? 'no_input' : 'decided' });
  },
  log: (m, f) => log.info(m, f),
});

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    return;
  }
  if (req.url === '/metrics') {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(cfg.port, cfg.host, resolve));
live.writeHeader();
log.info('listening', { port: cfg.port, pid: process.pid, syncPeriodSeconds: cfg.syncPeriodSeconds, settleSeconds: cfg.settleSeconds, source: loaded.name });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal });
  stop.abort();
  await Promise.race([reconciler.idle(), new Promise((r) => setTimeout(r, 20_000))]);
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await live.run(stop.signal);
