// The reference fleet of a test bed (harness/gateway with its policy sidecars, upstreams, notifier,
// redis and the audit store), HAProxy in front, the exporters and Prometheus:
//
//   redis ∥ audit store (→ migrate) → upstreams ∥ notifier ∥ N×policy sidecar → N×gateway →
//   HAProxy ∥ exporters → HAProxy sees every gateway healthy → Prometheus → every target up == 1.
//
// Every pid goes into the state file the moment it exists (through the start-up kit), so a failed
// or interrupted start is cleaned by `down`.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { GatewayConfigSchema } from '../../harness/gateway/config.ts';
import type { PolicySidecarConfigSchema } from '../../harness/policy/config.ts';
import type { UpstreamsConfigSchema } from '../../harness/upstreams/config.ts';
import { startRedis } from '../../harness/launch/redis.ts';
import { startNodeExporter, startPostgresExporter, startRedisExporter, type ExporterInstance } from '../../harness/launch/exporters.ts';
import { startPrometheus, type ScrapeJob } from '../../harness/launch/prometheus.ts';
import { pgliteUrl, type PgliteServerConfig } from '../../harness/db/pglite-config.ts';
import { freePort, freePorts } from '../util/ports.ts';
import { LaunchError } from '../util/supervise.ts';
import { createOwnDatabase, displayUrl, pgReady, runMigrations } from './database.ts';
import { SCRIPTS } from './paths.ts';
import { FILE_SD_REFRESH, groupsOf, targetsFile, writeTargets, type FileSdJob } from './prom-targets.ts';
import { writeRecordingRules } from './rules.ts';
import { startNodeService, startServiceOnSlot, writeConfigFile } from './services.ts';
import { commonEndpoints, exporterStep, haproxyStep, hostPort, patchRecord, startupKit, targetsStep, waitAllServersUp, type KitOptions } from './startup.ts';
import type { ProcessRole, TestbedState } from './state.ts';
import { createTokens, type Tokens } from './tokens.ts';
import type { TestbedEndpoints } from './types.ts';

export interface ReferenceFleetOptions extends KitOptions {
  /** The PostgreSQL server to create the bed's database on (startTestbed chose it); undefined: PGlite. */
  databaseUrl?: string | undefined;
  /** Per process health deadline; default 30 s. */
  healthTimeoutMs?: number;
  /** Deadline for every Prometheus target to be up; default 60 s. */
  targetsTimeoutMs?: number;
  /** Tenant of gateways and sidecars; default `acme`. */
  tenantId?: string;
}

const GATEWAY_DRAIN_MS = 2_000;

/** Gateways alternate between two zones by number: gw-1 az-a, gw-2 az-b, … (pairs per AZ). */
export function azOf(n: number): string {
  return n % 2 === 1 ? 'az-a' : 'az-b';
}

/** PGlite serves one statement at a time: small pools; a PostgreSQL server takes more. */
export function dbPoolMaxFor(kind: 'pglite' | 'postgres'): number {
  return kind === 'pglite' ? 4 : 20;
}

export async function bringUpReference(
  state: TestbedState,
  replicas: number,
  opts: ReferenceFleetOptions,
  ctl: AbortController,
  inflight: Set<Promise<unknown>>,
): Promise<TestbedEndpoints> {
  const signal = ctl.signal;
  const { stateDir, id } = state;
  const healthTimeoutMs = opts.healthTimeoutMs ?? 30_000;
  const tenantId = opts.tenantId ?? 'acme';
  const logs = path.join(stateDir, 'logs');
  const cfgDir = path.join(stateDir, 'config');
  const dataDir = path.join(stateDir, 'data');
  const checkAbort = () => signal.throwIfAborted();

  const kit = startupKit(state, opts, ctl, inflight);
  const { progress, record, forget, step } = kit;

  progress({ step: `test bed ${id} in ${stateDir}`, status: 'info' });
  const { files: tokenFiles, tokens } = createTokens(stateDir);
  const skillHash = crypto.createHash('sha256').update(`clawstorm-skills:${id}`).digest('hex');

  // ── redis ∥ audit store ────────────────────────────────────────────────────
  // Chosen by startTestbed (chooseDatabaseServer): a server, or undefined for PGlite.
  const databaseUrlOpt = opts.databaseUrl;
  const [redis, database] = await Promise.all([
    step(
      'redis',
      async () => {
        const r = await startRedis({ dir: dataDir, logFile: path.join(logs, 'redis.log'), readyTimeoutMs: 10_000, onSpawn: (p) => record('redis', p), signal });
        patchRecord(state, 'redis', { ports: [r.port] });
        return r;
      },
      (r) => `port ${r.port}`,
    ),
    databaseUrlOpt
      ? step('database', () => createOwnDatabase(state, databaseUrlOpt), (d) => `${d.name} on ${displayUrl(d.adminUrl)}`).then((d) => ({ kind: 'postgres' as const, url: d.url }))
      : step('pglite', () => startPglite(), (d) => `port ${d.port}`).then((d) => ({ kind: 'pglite' as const, url: d.url })),
  ]);
  await step('migrations', () => runMigrations(database.url), () => database.kind);

  async function startPglite(): Promise<{ url: string; port: number }> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const configFile = path.join(cfgDir, 'pglite.json');
      const config: PgliteServerConfig = {
        host: '127.0.0.1',
        port,
        dataDir: path.join(dataDir, 'pglite'),
        maxConnections: pgliteMaxConnections(replicas),
        migrate: true,
        idleTimeoutMs: 0,
      };
      writeConfigFile(configFile, config);
      const url = pgliteUrl(config);
      try {
        await startNodeService({
          name: 'pglite',
          script: SCRIPTS.pglite,
          configFile,
          logFile: path.join(logs, 'pglite.log'),
          ready: () => pgReady(url, 1_000),
          timeoutMs: healthTimeoutMs,
          onSpawn: (p) => record('pglite', p, { configFile, ports: [port] }),
          signal,
        });
        return { url, port };
      } catch (err) {
        if (retryable(err, attempt)) continue;
        throw err;
      }
    }
  }

  // ── upstreams ∥ sidecars ∥ gateways ──────────────────────────────────────────
  checkAbort();
  const dbPoolMax = dbPoolMaxFor(database.kind);
  const upstreams = { port: 0, url: '' };
  const sidecars = Array.from({ length: replicas }, (_, i) => ({ id: `policy-${i + 1}`, gateway: `gw-${i + 1}`, port: 0, url: '' }));
  const gateways = Array.from({ length: replicas }, (_, i) => ({
    id: `gw-${i + 1}`,
    az: azOf(i + 1),
    port: 0,
    url: '',
    configFile: path.join(cfgDir, `gw-${i + 1}.json`),
  }));
  const initialPorts = await freePorts(1 + 2 * replicas);
  // The notifier (failure digests, harness/notifier): gateways post failure events to it.
  const notifierPort = await freePort();
  const notifier = { port: notifierPort, url: `http://127.0.0.1:${notifierPort}` };
  const notifierFiles = { digestFile: path.join(dataDir, 'notifier', 'digests.jsonl'), fallbackFile: path.join(dataDir, 'notifier', 'fallback.json') };
  upstreams.port = initialPorts[0]!;
  upstreams.url = `http://127.0.0.1:${upstreams.port}`;
  sidecars.forEach((s, i) => {
    s.port = initialPorts[1 + i]!;
    s.url = `http://127.0.0.1:${s.port}`;
  });
  gateways.forEach((g, i) => {
    g.port = initialPorts[1 + replicas + i]!;
    g.url = `http://127.0.0.1:${g.port}`;
  });

  /** Start one node service; on a port taken meanwhile, once more on a fresh port. */
  const startService = (role: ProcessRole, name: string, script: string, slot: { port: number; url: string }, configFor: (port: number) => unknown, healthPath: string) =>
    startServiceOnSlot({ role, name, script, slot, configFor, healthPath, configDir: cfgDir, logDir: logs, timeoutMs: healthTimeoutMs, record, forget, signal });

  // Exporters need only redis and the database: start them now, collect them before Prometheus.
  const exportersStarting = Promise.all([
    exporterStep(state, kit, 'node', () => startNodeExporter({ dir: logs, onSpawn: (p) => record('exporter', p), signal })),
    exporterStep(state, kit, 'redis', () => startRedisExporter(redis.url, { dir: logs, onSpawn: (p) => record('exporter', p), signal })),
    ...(database.kind === 'postgres'
      ? [exporterStep(state, kit, 'postgres', () => startPostgresExporter(database.url, { dir: logs, onSpawn: (p) => record('exporter', p), signal }))]
      : []),
  ]);
  // Awaited below; a rejection meanwhile already aborted the start-up through step().
  exportersStarting.catch(() => {});

  // Sidecars and upstreams before the gateways: a gateway's config names its sidecar's port,
  // which is final only once the sidecar listens (a port taken meanwhile means a new one).
  const t0 = Date.now();
  await Promise.all([
    step(
      'upstreams',
      () =>
        startService('upstreams', 'upstreams', SCRIPTS.upstreams, upstreams, (port) => ({ host: '127.0.0.1', port, adminToken: tokens.admin }) satisfies z.input<typeof UpstreamsConfigSchema>, '/healthz'),
      () => `port ${upstreams.port}`,
    ),
    step(
      'notifier',
      () =>
        startService(
          'notifier',
          'notifier',
          SCRIPTS.notifier,
          notifier,
          (port) => ({ host: '127.0.0.1', port, windowMs: 60_000, sink: { kind: 'file', path: notifierFiles.digestFile }, fallbackFile: notifierFiles.fallbackFile, adminToken: tokens.admin }),
          '/healthz',
        ),
      () => `port ${notifier.port}`,
    ),
    ...sidecars.map((s) =>
      step(
        s.id,
        () =>
          startService(
            'policy',
            s.id,
            SCRIPTS.policy,
            s,
            (port) => ({ id: s.id, host: '127.0.0.1', port, databaseUrl: database.url, redisUrl: redis.url, tenantId }) satisfies z.input<typeof PolicySidecarConfigSchema>,
            '/health',
          ),
        () => `port ${s.port}`,
      ),
    ),
  ]);
  await Promise.all(
    gateways.map((g, i) =>
      step(
        g.id,
        () =>
          startService(
            'gateway',
            g.id,
            SCRIPTS.gateway,
            g,
            (port) => ({
              ...gatewayConfig({
                id: g.id,
                az: g.az,
                port,
                skillHash,
                tenantId,
                tokens,
                redisUrl: redis.url,
                databaseUrl: database.url,
                dbPoolMax,
                policyUrl: sidecars[i]!.url,
                upstreamUrl: upstreams.url,
                dataDir: path.join(dataDir, g.id),
              }),
              notifierUrl: notifier.url,
              // One gateway of the 2 TB tier (yellow disk gate 78% instead of 82%), so the disk
              // watermark drill sees both tiers of plan §4.
              ...(i === 2 ? { diskCapacityBytes: 2e12 } : {}),
            }),
            '/healthz',
          ),
        () => `${g.az}, port ${g.port}`,
      ),
    ),
  );
  progress({ step: `fleet of ${replicas} gateway(s) with sidecars healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`, status: 'info' });

  // ── HAProxy ─────────────────────────────────────────────────────────────────
  checkAbort();
  const lb = await haproxyStep(state, kit, { servers: gateways.map((g) => ({ name: g.id, port: g.port, weight: 100 })), probeToken: tokens.probe }, signal);
  const exporterResults = await exportersStarting;
  const exporters = exporterResults.filter((e): e is ExporterInstance => e !== undefined);

  await step('haproxy health checks', () => waitAllServersUp(lb, gateways.map((g) => g.id), 20_000), (s) => `${s.length} server(s) UP`);

  // ── Prometheus ──────────────────────────────────────────────────────────────
  checkAbort();
  // Gateways, sidecars and an autoscaler (when one runs) are targets from files, so a replica added
  // or removed later is picked up without a restart; the files exist before Prometheus starts, so
  // no series is ever scraped without its `gateway`/`az` labels.
  const fileSd = (job: FileSdJob): ScrapeJob => ({ name: job, targets: [], fileSd: { files: [targetsFile(stateDir, job)], refreshInterval: FILE_SD_REFRESH }, honorLabels: true });
  writeTargets(stateDir, 'gateway', groupsOf(gateways.map((g) => ({ target: hostPort(g.url), labels: { gateway: g.id, az: g.az } }))));
  writeTargets(stateDir, 'policy', groupsOf(sidecars.map((s, i) => ({ target: hostPort(s.url), labels: { gateway: s.gateway, az: gateways[i]!.az } }))));
  writeTargets(stateDir, 'autoscaler', []);
  const jobs: ScrapeJob[] = [
    fileSd('gateway'),
    fileSd('policy'),
    { name: 'upstreams', targets: [hostPort(upstreams.url)] },
    { name: 'haproxy', targets: [`127.0.0.1:${lb.statsPort}`], metricsPath: '/metrics' },
    ...exporters.map((e) => ({ name: e.job, targets: [e.target] })),
    // No target until `testbed up --autoscale` starts the autoscaler.
    fileSd('autoscaler'),
  ];
  const prom = await step(
    'prometheus',
    async () => {
      const promDir = path.join(stateDir, 'prometheus');
      fs.mkdirSync(promDir, { recursive: true, mode: 0o700 });
      const rules = writeRecordingRules(path.join(promDir, 'rules.yml'), 'reference');
      const p = await startPrometheus({ dir: promDir, jobs, scrapeInterval: '1s', ruleFiles: [rules], detached: true });
      record('prometheus', { name: p.name, pid: p.pid, command: p.command, args: p.args, logFile: p.logFile }, {
        configFile: p.configFile,
        ports: [p.port],
        healthUrl: `${p.url}/-/ready`,
      });
      return p;
    },
    (p) => `port ${p.port}`,
  );
  await targetsStep(kit, prom, jobs.filter((j) => j.name !== 'autoscaler'), opts.targetsTimeoutMs);

  const endpoints: TestbedEndpoints = {
    ...commonEndpoints(state, lb, prom),
    gateways: gateways.map((g) => ({ id: g.id, az: g.az, url: g.url, server: g.id, configFile: g.configFile })),
    policies: sidecars.map((s) => ({ id: s.id, gateway: s.gateway, url: s.url })),
    upstreams: { url: upstreams.url },
    redis: { url: redis.url },
    database,
    tokenFiles,
    exporters: exporters.map((e) => ({ job: e.job, url: e.url })),
    skillHash,
    tenantId,
    notifier: { url: notifier.url, ...notifierFiles },
  };
  return endpoints;
}

function retryable(err: unknown, attempt: number): boolean {
  return err instanceof LaunchError && err.addressInUse && attempt === 1;
}

/** PGlite serves one session at a time behind the wire server; leave headroom over the pools. */
function pgliteMaxConnections(replicas: number): number {
  return replicas * (4 + 4) + 8;
}

export interface GatewayConfigInput {
  id: string;
  az: string;
  port: number;
  skillHash: string;
  tenantId: string;
  tokens: Tokens;
  redisUrl: string;
  databaseUrl: string;
  dbPoolMax: number;
  policyUrl: string;
  upstreamUrl: string;
  dataDir: string;
}

/** The gateway's config file (validated by harness/gateway/config.ts when it starts). */
export function gatewayConfig(c: GatewayConfigInput): z.input<typeof GatewayConfigSchema> {
  fs.mkdirSync(c.dataDir, { recursive: true, mode: 0o700 });
  return {
    id: c.id,
    az: c.az,
    host: '127.0.0.1',
    port: c.port,
    skillHash: c.skillHash,
    tenantId: c.tenantId,
    tokens: { gateway: [c.tokens.gateway], hook: c.tokens.hook, admin: c.tokens.admin, probe: c.tokens.probe },
    redisUrl: c.redisUrl,
    databaseUrl: c.databaseUrl,
    dbPoolMax: c.dbPoolMax,
    policyUrl: c.policyUrl,
    upstreamUrl: c.upstreamUrl,
    dataDir: c.dataDir,
    drainGraceMs: GATEWAY_DRAIN_MS,
  };
}
