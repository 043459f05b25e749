// Infrastructure exporters of a test bed (node, redis, postgres), each on its own loopback port.
// They are optional: a missing binary is skipped with a note naming the Debian package, because
// the reference fleet's own metrics still score most of §3 without them.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/util/ports.ts';
import { findBinary, stopProcess, type StartedProcess } from '../../src/util/proc.ts';
import { httpOk, launch, LaunchError } from '../../src/util/supervise.ts';

export type ExporterJob = 'node' | 'redis' | 'postgres' | 'blackbox';

export interface ExporterInstance {
  name: string;
  job: ExporterJob;
  url: string;
  /** `host:port` for the scrape config. */
  target: string;
  port: number;
  pid: number;
  command: string;
  args: string[];
  logFile: string;
}

export interface SkippedExporter {
  job: ExporterJob;
  note: string;
}

interface ExporterDef {
  binary: string;
  debianPackage: string;
  envOverride: string;
}

export const EXPORTERS: Record<ExporterJob, ExporterDef> = {
  node: { binary: 'prometheus-node-exporter', debianPackage: 'prometheus-node-exporter', envOverride: 'NODE_EXPORTER_BIN' },
  redis: { binary: 'prometheus-redis-exporter', debianPackage: 'prometheus-redis-exporter', envOverride: 'REDIS_EXPORTER_BIN' },
  postgres: { binary: 'prometheus-postgres-exporter', debianPackage: 'prometheus-postgres-exporter', envOverride: 'POSTGRES_EXPORTER_BIN' },
  blackbox: { binary: 'prometheus-blackbox-exporter', debianPackage: 'prometheus-blackbox-exporter', envOverride: 'BLACKBOX_EXPORTER_BIN' },
};

/** The blackbox module every gateway probe uses: GET, 200 only, a timeout under the 1 s scrape interval. */
export const BLACKBOX_MODULE = 'http_200';

export function blackboxConfig(): string {
  return [
    'modules:',
    `  ${BLACKBOX_MODULE}:`,
    '    prober: http',
    '    timeout: 900ms',
    '    http:',
    '      method: GET',
    '      valid_status_codes: [200]',
    '      preferred_ip_protocol: ip4',
    '      no_follow_redirects: true',
    '',
  ].join('\n');
}

/**
 * The blackbox exporter, probing what Prometheus asks it to (`/probe?target=…&module=…`). Writes
 * its config into `opts.dir`. Unlike the other exporters a bed of real gateways cannot do without
 * it (their liveness in Prometheus comes from it), so the caller decides whether a skip is fatal.
 */
export async function startBlackboxExporter(opts: StartExporterOptions): Promise<ExporterResult> {
  const command = findBinary(EXPORTERS.blackbox.binary, EXPORTERS.blackbox.envOverride);
  if (command === undefined) return missing('blackbox');
  const configFile = path.join(opts.dir, 'blackbox.yml');
  fs.writeFileSync(configFile, blackboxConfig(), { mode: 0o600 });
  const exporter = await startExporter('blackbox', command, (listen) => [`--config.file=${configFile}`, `--web.listen-address=${listen}`, '--log.level=warn'], undefined, opts);
  return { ok: true, exporter };
}

// The node exporter's default set includes collectors that are slow or noisy in containers and
// CI (hwmon, rapl, thermal, nfs, mdadm, btrfs, textfile …); keep the ones §3 scores from.
export const NODE_COLLECTORS = [
  'cpu', 'meminfo', 'loadavg', 'stat', 'vmstat', 'diskstats', 'filesystem', 'netdev', 'sockstat', 'netstat', 'filefd', 'pressure', 'uname', 'time',
];

export interface StartExporterOptions {
  /** Directory for the log file. */
  dir: string;
  readyTimeoutMs?: number;
  detached?: boolean;
  onSpawn?: (p: StartedProcess) => void;
  signal?: AbortSignal;
}

export type ExporterResult = { ok: true; exporter: ExporterInstance } | { ok: false; skipped: SkippedExporter };

function missing(job: ExporterJob): ExporterResult {
  const d = EXPORTERS[job];
  return { ok: false, skipped: { job, note: `${job} exporter skipped: ${d.binary} not installed (Debian package '${d.debianPackage}', or set ${d.envOverride})` } };
}

async function startExporter(
  job: ExporterJob,
  command: string,
  argsFor: (listen: string) => string[],
  env: NodeJS.ProcessEnv | undefined,
  opts: StartExporterOptions,
): Promise<ExporterInstance> {
  const name = `${job}-exporter`;
  const logFile = path.join(opts.dir, `${name}.log`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const target = `127.0.0.1:${port}`;
    const args = argsFor(target);
    const url = `http://${target}/metrics`;
    try {
      const p = await launch({
        name,
        command,
        args,
        logFile,
        env,
        detached: opts.detached,
        ready: () => httpOk(url, 2_000),
        readyWhat: `GET ${url}`,
        timeoutMs: opts.readyTimeoutMs ?? 15_000,
        onSpawn: opts.onSpawn,
        signal: opts.signal,
      });
      return { name, job, url, target, port, pid: p.pid, command, args, logFile };
    } catch (err) {
      if (err instanceof LaunchError && err.addressInUse && attempt === 1) continue;
      throw err;
    }
  }
}

export async function startNodeExporter(opts: StartExporterOptions): Promise<ExporterResult> {
  const command = findBinary(EXPORTERS.node.binary, EXPORTERS.node.envOverride);
  if (command === undefined) return missing('node');
  const exporter = await startExporter(
    'node',
    command,
    (listen) => [`--web.listen-address=${listen}`, '--collector.disable-defaults', ...NODE_COLLECTORS.map((c) => `--collector.${c}`), '--log.level=warn'],
    undefined,
    opts,
  );
  return { ok: true, exporter };
}

/** `redisUrl`: the test bed's private redis (`redis://127.0.0.1:P`). */
export async function startRedisExporter(redisUrl: string, opts: StartExporterOptions): Promise<ExporterResult> {
  const command = findBinary(EXPORTERS.redis.binary, EXPORTERS.redis.envOverride);
  if (command === undefined) return missing('redis');
  const exporter = await startExporter(
    'redis',
    command,
    (listen) => ['-redis.addr', redisUrl, '-web.listen-address', listen, '-ping-on-connect'],
    // Keep a developer's REDIS_PASSWORD etc. out of the exporter: it talks to our redis only.
    scrubbedEnv(['REDIS_ADDR', 'REDIS_USER', 'REDIS_PASSWORD', 'REDIS_EXPORTER_REDIS_ADDR']),
    opts,
  );
  return { ok: true, exporter };
}

/**
 * Only for a real PostgreSQL (DATABASE_URL); the connection string goes through the environment
 * (`DATA_SOURCE_NAME`), never the command line, since it may carry a password.
 */
export async function startPostgresExporter(databaseUrl: string, opts: StartExporterOptions): Promise<ExporterResult> {
  const command = findBinary(EXPORTERS.postgres.binary, EXPORTERS.postgres.envOverride);
  if (command === undefined) return missing('postgres');
  const exporter = await startExporter(
    'postgres',
    command,
    (listen) => [`--web.listen-address=${listen}`, '--log.level=warn'],
    { ...scrubbedEnv(['DATA_SOURCE_URI', 'DATA_SOURCE_USER', 'DATA_SOURCE_PASS', 'DATA_SOURCE_NAME']), DATA_SOURCE_NAME: exporterDsn(databaseUrl) },
    opts,
  );
  return { ok: true, exporter };
}

/**
 * lib/pq (the exporter's driver) defaults to sslmode=require; against a loopback server without
 * TLS each scrape then stalls past the 1 s scrape timeout. Loopback needs no TLS: disable it
 * unless the URL chose a mode.
 */
export function exporterDsn(databaseUrl: string): string {
  try {
    const u = new URL(databaseUrl);
    if (!u.searchParams.has('sslmode')) u.searchParams.set('sslmode', 'disable');
    return u.toString();
  } catch {
    return databaseUrl;
  }
}

export async function stopExporter(e: Pick<ExporterInstance, 'pid' | 'command'>, graceMs = 5_000): Promise<void> {
  await stopProcess(e, graceMs);
}

function scrubbedEnv(drop: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of drop) delete env[k];
  return env;
}
