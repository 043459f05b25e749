// `clawstorm testbed up --gateways openclaw`: real OpenClaw gateways (npm `openclaw`, pinned,
// installed once into the cache) behind HAProxy, which checks `/readyz`; Prometheus scrapes HAProxy
// and a blackbox exporter probing every gateway's `/healthz` and `/readyz` (the gateway has no
// Prometheus endpoint of its own without a plugin that is not on npm).
//
// Order: install (cached) → N gateways in parallel, each until `/readyz` 200 → HAProxy ∥ exporters
// → HAProxy sees every gateway healthy → Prometheus → every target up.
import fs from 'node:fs';
import path from 'node:path';
import { BLACKBOX_MODULE, startBlackboxExporter, startNodeExporter, type ExporterInstance } from '../../harness/launch/exporters.ts';
import { startPrometheus, type ScrapeJob } from '../../harness/launch/prometheus.ts';
import { ensureOpenClaw } from '../../harness/openclaw/install.ts';
import { openclawGatewayConfig, openclawGatewayEnv, pickPort } from '../../harness/openclaw/launch.ts';
import { descendants } from '../util/proc.ts';
import { httpOk, launch } from '../util/supervise.ts';
import { writeConfigFile } from './services.ts';
import { commonEndpoints, exporterStep, haproxyStep, patchRecord, targetsStep, waitAllServersUp, type StartupKit } from './startup.ts';
import { writeRecordingRules } from './rules.ts';
import type { TestbedState } from './state.ts';
import { createTokens } from './tokens.ts';
import type { OpenClawEndpoints } from './types.ts';

/** The process the OpenClaw CLI forks to serve (its /proc comm); crash and hang faults hit it. */
export const OPENCLAW_SERVER_COMM = 'openclaw-gateway';

export interface OpenClawBedOptions {
  replicas: number;
  /** Per-gateway bound on spawn → `/readyz` 200; default 180 s (≈15–20 s each on 2 cores, more on a first start). */
  readyTimeoutMs?: number;
  targetsTimeoutMs?: number;
  /** The openclaw version; default the pinned one (harness/openclaw/install.ts). */
  version?: string;
}

export async function bringUpOpenClaw(state: TestbedState, kit: StartupKit, opts: OpenClawBedOptions, signal: AbortSignal): Promise<OpenClawEndpoints> {
  const { stateDir, id } = state;
  const { progress, record, step } = kit;
  const logs = path.join(stateDir, 'logs');
  const replicas = opts.replicas;
  progress({ step: `test bed ${id} (real OpenClaw gateways) in ${stateDir}`, status: 'info' });

  const install = await step('openclaw package', () => ensureOpenClaw(opts.version === undefined ? {} : { version: opts.version }), (i) =>
    `${i.version}${i.installedNow ? `, installed in ${(i.installMs / 1000).toFixed(1)} s` : ', cached'} (${i.dir})`,
  );
  // One token pair for the fleet: behind one load balancer a client cannot choose its replica.
  const { files: tokenFiles, tokens } = createTokens(stateDir, ['gateway', 'hook'] as const);

  // ── gateways ──
  const ports: number[] = [];
  for (let i = 0; i < replicas; i++) ports.push(await pickPort(ports));
  const gateways = ports.map((port, i) => {
    const name = `gw-${i + 1}`;
    const root = path.join(stateDir, 'gateways', name);
    return {
      id: name,
      az: i % 2 === 0 ? 'az-a' : 'az-b',
      port,
      url: `http://127.0.0.1:${port}`,
      root,
      configFile: path.join(root, 'openclaw.json'),
      appLogFile: path.join(root, 'openclaw.jsonl'),
    };
  });
  const readyTimeoutMs = opts.readyTimeoutMs ?? 180_000;
  const t0 = Date.now();
  await Promise.all(
    gateways.map((g) =>
      step(
        g.id,
        async () => {
          const stateSub = path.join(g.root, 'state');
          const workspace = path.join(g.root, 'workspace');
          for (const d of [stateSub, workspace, path.join(g.root, 'home')]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
          writeConfigFile(
            g.configFile,
            openclawGatewayConfig({
              port: g.port,
              gatewayToken: tokens.gateway,
              hookToken: tokens.hook,
              workspace,
              appLogFile: g.appLogFile,
            }),
          );
          const env = openclawGatewayEnv(g.root, stateSub, g.configFile, install);
          const healthUrl = `${g.url}/readyz`;
          const p = await launch({
            name: g.id,
            command: process.execPath,
            args: [install.entry, 'gateway', '--port', String(g.port)],
            logFile: path.join(logs, `${g.id}.log`),
            cwd: g.root,
            env,
            ready: () => httpOk(healthUrl, 2_000),
            readyWhat: `GET ${healthUrl} → 200`,
            timeoutMs: readyTimeoutMs,
            intervalMs: 250,
            onSpawn: (sp) =>
              record('gateway', sp, { configFile: g.configFile, ports: [g.port], healthUrl, cwd: g.root, env, serverComm: OPENCLAW_SERVER_COMM }),
            signal,
          });
          patchRecord(state, g.id, { children: descendants(p.pid) });
        },
        () => `${g.az}, port ${g.port}`,
      ),
    ),
  );
  progress({ step: `${replicas} OpenClaw gateway(s) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`, status: 'info' });

  // ── HAProxy ∥ exporters ──
  signal.throwIfAborted();
  const exportersStarting = Promise.all([
    exporterStep(state, kit, 'blackbox', () => startBlackboxExporter({ dir: logs, onSpawn: (p) => record('exporter', p), signal }), true),
    exporterStep(state, kit, 'node', () => startNodeExporter({ dir: logs, onSpawn: (p) => record('exporter', p), signal })),
  ]);
  exportersStarting.catch(() => {});
  const lb = await haproxyStep(
    state,
    kit,
    {
      servers: gateways.map((g) => ({ name: g.id, port: g.port, weight: 100 })),
      // 503 while starting or draining: the load balancer takes a draining gateway out.
      probePath: '/readyz',
      // The gateway refuses forwarded loopback clients (403 proxy_attribution_required), so it
      // sees HAProxy's own address for every client: one per-IP limiter bucket for all of them.
      forwardFor: false,
    },
    signal,
  );
  const exporters = (await exportersStarting).filter((e): e is ExporterInstance => e !== undefined);

  await step('haproxy health checks', () => waitAllServersUp(lb, gateways.map((g) => g.id), 30_000), (s) => `${s.length} server(s) UP on /readyz`);

  // ── Prometheus ──
  signal.throwIfAborted();
  const blackbox = exporters.find((e) => e.job === 'blackbox');
  if (blackbox === undefined) throw new Error('blackbox exporter did not start');
  const probeJob = (what: 'healthz' | 'readyz'): ScrapeJob => ({
    name: `blackbox-${what}`,
    targets: [],
    labelledTargets: gateways.map((g) => ({ target: `${g.url}/${what}`, labels: { gateway: g.id, az: g.az } })),
    metricsPath: '/probe',
    params: { module: [BLACKBOX_MODULE] },
    // The classic blackbox rewrite: the listed address is the probe's target, the exporter is scraped.
    relabelConfigs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: blackbox.target },
    ],
  });
  const jobs: ScrapeJob[] = [
    { name: 'haproxy', targets: [`127.0.0.1:${lb.statsPort}`], metricsPath: '/metrics' },
    probeJob('healthz'),
    probeJob('readyz'),
    ...exporters.map((e) => ({ name: e.job, targets: [e.target] })),
  ];
  const promDir = path.join(stateDir, 'prometheus');
  fs.mkdirSync(promDir, { recursive: true, mode: 0o700 });
  const rules = writeRecordingRules(path.join(promDir, 'rules.yml'), 'openclaw');
  const prom = await step(
    'prometheus',
    async () => {
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
  await targetsStep(kit, prom, jobs, opts.targetsTimeoutMs);

  return {
    kind: 'openclaw',
    ...commonEndpoints(state, lb, prom),
    gateways: gateways.map((g) => ({ id: g.id, az: g.az, url: g.url, server: g.id, configFile: g.configFile, appLogFile: g.appLogFile })),
    exporters: exporters.map((e) => ({ job: e.job, url: e.url })),
    tokenFiles,
    openclaw: { version: install.version, packageDir: install.packageDir },
  };
}
