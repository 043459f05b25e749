// Private Prometheus for a test bed: config generator + launcher.
//
//   const prom = await startPrometheus({ dir: stateDir + '/prometheus', jobs: [
//     { name: 'gateway', targets: ['127.0.0.1:18789'], labels: { az: 'a' } },
//   ] });
//   await waitForTargetsUp(prom.url, { jobs: ['gateway'] });   // src/prom/targets.ts
//   …                                   // prom is JSON-serialisable: put it in the state file
//   await stopPrometheus(prom);          // SIGTERM (then SIGKILL) via util/proc stopProcess
//
// Each instance has its own config file, tsdb directory and loopback port, so two test beds
// never share a Prometheus.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freePort } from '../../src/util/ports.ts';
import { isAlive, requireBinary, startProcess, stopProcess } from '../../src/util/proc.ts';
import { waitFor } from '../../src/util/wait.ts';

export interface ScrapeJob {
  /** Becomes the `job` label (gateway, policy, upstreams, haproxy, node, redis, postgres). */
  name: string;
  /** `host:port` of each target. */
  targets: string[];
  /** Extra labels attached to every target of the job (e.g. `az`). */
  labels?: Record<string, string>;
  /** Default `/metrics`. */
  metricsPath?: string;
  scheme?: 'http' | 'https';
  /** File holding a bearer token (`authorization: {credentials_file}`); the token never enters the config. */
  bearerTokenFile?: string;
  /** URL query parameters for the scrape (e.g. `{ format: ['prometheus'] }`). */
  params?: Record<string, string[]>;
  /** Per-job override of the global scrape interval, e.g. `'5s'`. */
  scrapeInterval?: string;
  /** Per-target labels: each entry becomes a static config of its own (after `targets`, if any). */
  labelledTargets?: Array<{ target: string; labels: Record<string, string> }>;
  /** `relabel_configs` as Prometheus reads them (the blackbox exporter's target rewriting). */
  relabelConfigs?: Array<Record<string, unknown>>;
  /**
   * Targets read from JSON files (`file_sd_configs`): Prometheus watches them and picks up targets
   * added or removed without a restart or reload. Each file is a list of `{targets, labels}` groups.
   */
  fileSd?: { files: string[]; refreshInterval?: string };
  /** Keep the target's own labels where they clash with the target labels (`honor_labels`). */
  honorLabels?: boolean;
}

export interface PrometheusConfigOptions {
  jobs: ScrapeJob[];
  /** Default `'1s'`: a smoke run lasts minutes, so scoring needs dense samples. */
  scrapeInterval?: string;
  /** Default: same as scrapeInterval. */
  evaluationInterval?: string;
  externalLabels?: Record<string, string>;
  /** Rule files (recording rules), absolute paths. */
  ruleFiles?: string[];
}

/** The prometheus.yml text for these jobs. */
export function prometheusConfig(opts: PrometheusConfigOptions): string {
  const scrapeInterval = opts.scrapeInterval ?? '1s';
  const names = new Set<string>();
  for (const job of opts.jobs) {
    if (names.has(job.name)) throw new Error(`prometheus config: job ${JSON.stringify(job.name)} listed twice`);
    names.add(job.name);
  }
  const doc = {
    global: {
      scrape_interval: scrapeInterval,
      // A scrape must finish before the next one starts.
      scrape_timeout: scrapeInterval,
      evaluation_interval: opts.evaluationInterval ?? scrapeInterval,
      ...(opts.externalLabels ? { external_labels: opts.externalLabels } : {}),
    },
    ...(opts.ruleFiles && opts.ruleFiles.length > 0 ? { rule_files: opts.ruleFiles } : {}),
    scrape_configs: opts.jobs.map((job) => ({
      job_name: job.name,
      ...(job.scrapeInterval ? { scrape_interval: job.scrapeInterval, scrape_timeout: job.scrapeInterval } : {}),
      ...(job.metricsPath ? { metrics_path: job.metricsPath } : {}),
      ...(job.scheme ? { scheme: job.scheme } : {}),
      ...(job.params ? { params: job.params } : {}),
      ...(job.bearerTokenFile ? { authorization: { type: 'Bearer', credentials_file: job.bearerTokenFile } } : {}),
      ...(job.honorLabels ? { honor_labels: true } : {}),
      ...(job.fileSd ? { file_sd_configs: [{ files: job.fileSd.files, ...(job.fileSd.refreshInterval ? { refresh_interval: job.fileSd.refreshInterval } : {}) }] } : {}),
      ...(job.fileSd && job.targets.length === 0 && !job.labelledTargets
        ? {}
        : {
            static_configs: [
              ...(job.targets.length > 0 || !job.labelledTargets ? [{ targets: job.targets, ...(job.labels ? { labels: job.labels } : {}) }] : []),
              ...(job.labelledTargets ?? []).map((t) => ({ targets: [t.target], labels: { ...job.labels, ...t.labels } })),
            ],
          }),
      ...(job.relabelConfigs ? { relabel_configs: job.relabelConfigs } : {}),
    })),
  };
  return YAML.stringify(doc);
}

export interface StartPrometheusOptions extends PrometheusConfigOptions {
  /** Directory owned by this instance: config, tsdb and log go inside it. */
  dir: string;
  /** Default: a free loopback port. */
  port?: number;
  /** `--storage.tsdb.retention.time`, default `'6h'`. */
  retention?: string;
  /** Default 30 s. */
  readyTimeoutMs?: number;
  /** Keep running after this process exits (`testbed up`). Default true. */
  detached?: boolean;
  /**
   * Store native histograms (`--enable-feature=native-histograms`), as k6's remote-write output
   * sends its trends. Off by default: the bed's own targets expose classic histograms.
   */
  nativeHistograms?: boolean;
}

/** Everything needed to reach and stop the instance; plain JSON for a state file. */
export interface PrometheusInstance {
  name: 'prometheus';
  url: string;
  port: number;
  pid: number;
  command: string;
  args: string[];
  configFile: string;
  dataDir: string;
  logFile: string;
}

/**
 * Write the config, start Prometheus on loopback, and resolve once `/-/ready` answers 200.
 * Throws MissingBinaryError('prometheus', 'prometheus') when the binary is absent
 * (override the path with PROMETHEUS_BIN), and an error quoting the log tail when it exits.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusInstance> {
  const command = requireBinary('prometheus', 'prometheus', 'PROMETHEUS_BIN');
  const dir = path.resolve(opts.dir);
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(configFile, prometheusConfig(opts), { mode: 0o600 });

  // freePort can race with another process; retry once on EADDRINUSE (ports.ts convention).
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=${opts.retention ?? '6h'}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      // Distributed runners (and k6's remote-write output) push their series here.
      '--web.enable-remote-write-receiver',
      ...(opts.nativeHistograms ? ['--enable-feature=native-histograms'] : []),
      '--log.level=warn',
    ];
    const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const proc = startProcess({ name: 'prometheus', command, args, logFile, detached: opts.detached ?? true });
    const url = `http://127.0.0.1:${port}`;
    const instance: PrometheusInstance = { name: 'prometheus', url, port, pid: proc.pid, command, args, configFile, dataDir, logFile };
    try {
      await waitReady(instance, opts.readyTimeoutMs ?? 30_000, logStart);
      return instance;
    } catch (err) {
      await stopProcess(instance, 2_000);
      const inUse = readLogTail(logFile, logStart).includes('address already in use');
      if (inUse && attempt === 1 && opts.port === undefined) continue;
      throw err;
    }
  }
}

async function waitReady(p: PrometheusInstance, timeoutMs: number, logStart: number): Promise<void> {
  let exited = false;
  await waitFor(
    async () => {
      if (!isAlive(p.pid)) {
        exited = true;
        return true;
      }
      const res = await fetch(`${p.url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs, intervalMs: 100, what: `Prometheus at ${p.url}/-/ready (log: ${p.logFile})` },
  );
  if (exited) {
    throw new Error(`prometheus exited during start-up (config ${p.configFile}): ${readLogTail(p.logFile, logStart) || 'no log output'}`);
  }
}

function readLogTail(logFile: string, from: number): string {
  try {
    const text = fs.readFileSync(logFile, 'utf8').slice(from);
    return text.trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '';
  }
}

export async function stopPrometheus(p: Pick<PrometheusInstance, 'pid' | 'command'>, graceMs = 5_000): Promise<void> {
  await stopProcess(p, graceMs);
}
