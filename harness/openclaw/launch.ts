import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isListening } from '../../src/util/ports.ts';
import { isAlive, startProcess, stopProcessTree, type StartedProcess } from '../../src/util/proc.ts';
import { registerSecret } from '../../src/util/redact.ts';
import { ensureOpenClaw, type InstallOptions, type OpenClawInstall } from './install.ts';

export interface OpenClawGateway {
  index: number;
  port: number;
  baseUrl: string;
  wsUrl: string;
  gatewayToken: string;
  hookToken: string;
  /** Root of this gateway's private files: config, state, home, workspace, logs. */
  root: string;
  stateDir: string;
  configPath: string;
  /** stdout/stderr of the process. */
  logFile: string;
  /** OpenClaw's own JSONL log (`logging.file`). */
  appLogFile: string;
  process: StartedProcess;
  /** ms from spawn to `/readyz` 200. */
  startMs: number;
}

export interface OpenClawFleet {
  install: OpenClawInstall;
  gateways: OpenClawGateway[];
  stop(): Promise<void>;
}

export interface LaunchOptions {
  count: number;
  /** Where per-gateway directories go; default a fresh temp dir (removed by stop() unless keepFiles). */
  rootDir?: string;
  keepFiles?: boolean;
  /** Bound on spawn → `/readyz` 200 for each gateway. Default 120 s (≈20 s each on 2 cores). */
  readyTimeoutMs?: number;
  install?: InstallOptions;
}

export function token(prefix: string): string {
  const t = `${prefix}-${randomBytes(24).toString('base64url')}`;
  registerSecret(t);
  return t;
}

// The gateway also claims base+2 … base+110 for browser control / CDP (docs/gateway/
// multiple-gateways.md); the browser plugin is disabled below, but keep distinct bases apart anyway.
export async function pickPort(taken: number[]): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p + 110 < 65536 && taken.every((t) => Math.abs(t - p) > 120)) return p;
  }
  throw new Error('could not find a free loopback port with 120 ports of clearance');
}

export interface GatewayConfigInput {
  port: number;
  gatewayToken: string;
  hookToken: string;
  workspace: string;
  appLogFile: string;
}

/** Config for one gateway: local mode, loopback, token auth, hooks on (docs/gateway/config-*.md). */
export function openclawGatewayConfig(g: GatewayConfigInput): unknown {
  return {
    gateway: {
      mode: 'local',
      port: g.port,
      bind: 'loopback',
      auth: { mode: 'token', token: g.gatewayToken },
    },
    hooks: { enabled: true, token: g.hookToken, path: '/hooks' },
    agents: { defaults: { workspace: g.workspace } },
    browser: { enabled: false },
    logging: { file: g.appLogFile },
  };
}

/** Environment of one gateway: everything it writes stays under its root (embedding.md preset). No secrets. */
export function openclawGatewayEnv(root: string, stateDir: string, configPath: string, install: Pick<OpenClawInstall, 'dir'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['LANG', 'LC_ALL', 'TZ', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return {
    ...env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: path.join(root, 'home'),
    OPENCLAW_HOME: path.join(root, 'home'),
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_NO_RESPAWN: '1',
    OPENCLAW_SKIP_CHANNELS: '1',
    OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
    // Shared between gateways of one version: the second start skips recompiling ~650 MB of JS.
    NODE_COMPILE_CACHE: path.join(install.dir, '.compile-cache'),
  };
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(g: Omit<OpenClawGateway, 'startMs'>, t0: number, timeoutMs: number): Promise<number> {
  const deadline = t0 + timeoutMs;
  for (;;) {
    if (!isAlive(g.process.pid)) throw new Error(`openclaw gateway ${g.index} exited during startup; log ${g.logFile}:\n${tail(g.logFile)}`);
    try {
      const res = await fetch(`${g.baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    if (performance.now() >= deadline) {
      throw new Error(`openclaw gateway ${g.index} not ready (/readyz) within ${timeoutMs} ms; log ${g.logFile}:\n${tail(g.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopGateway(g: OpenClawGateway): Promise<void> {
  // openclaw.mjs runs the server as a child ("openclaw-gateway"), which spawns a spawn broker in a
  // process group of its own. Its shutdown drains (default budget 315 s); a test gateway has
  // nothing worth waiting for.
  await stopProcessTree(g.process, 10_000, 0);
  try {
    process.kill(-g.process.pid, 'SIGKILL');
  } catch {
    // group already empty
  }
}

/**
 * Start `count` real OpenClaw gateways on free loopback ports, each with its own state dir, config,
 * gateway token and hook token, and wait (bounded) until each answers `/readyz` 200.
 */
export async function launchOpenClawGateways(opts: LaunchOptions): Promise<OpenClawFleet> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 16) throw new Error('count must be an integer 1..16');
  const install = await ensureOpenClaw(opts.install);
  const ownRoot = opts.rootDir === undefined;
  const rootDir = opts.rootDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-openclaw-'));
  fs.mkdirSync(rootDir, { recursive: true });
  const started: OpenClawGateway[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((g) => stopGateway(g)));
    if (ownRoot && opts.keepFiles !== true) fs.rmSync(rootDir, { recursive: true, force: true });
  };
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  try {
    const ports: number[] = [];
    const pending: Array<Promise<void>> = [];
    for (let index = 0; index < opts.count; index++) {
      const port = await pickPort(ports);
      ports.push(port);
      const root = path.join(rootDir, `gw${index}`);
      const stateDir = path.join(root, 'state');
      const workspace = path.join(root, 'workspace');
      for (const d of [stateDir, workspace, path.join(root, 'home')]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
      const configPath = path.join(root, 'openclaw.json');
      const gatewayToken = token('gw');
      const hookToken = token('hook');
      const appLogFile = path.join(root, 'openclaw.jsonl');
      fs.writeFileSync(configPath, JSON.stringify(openclawGatewayConfig({ port, gatewayToken, hookToken, workspace, appLogFile }), null, 2), { mode: 0o600 });
      const logFile = path.join(root, 'gateway.log');
      const t0 = performance.now();
      const proc = startProcess({
        name: `openclaw-${index}`,
        command: process.execPath,
        args: [install.entry, 'gateway', '--port', String(port)],
        logFile,
        cwd: root,
        env: openclawGatewayEnv(root, stateDir, configPath, install),
        detached: true,
      });
      const base = { index, port, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, gatewayToken, hookToken, root, stateDir, configPath, logFile, appLogFile, process: proc };
      const g: OpenClawGateway = { ...base, startMs: Number.NaN };
      started.push(g);
      pending.push(
        waitReady(base, t0, readyTimeoutMs).then((ms) => {
          g.startMs = ms;
        }),
      );
    }
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return { install, gateways: started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** True while the gateway's port accepts connections (for drills that kill it). */
export function gatewayListening(g: Pick<OpenClawGateway, 'port'>): Promise<boolean> {
  return isListening(g.port);
}

// `node harness/openclaw/launch.ts [count]`: start, print endpoints (no tokens), wait for Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  const fleet = await launchOpenClawGateways({ count: Number(process.argv[2] ?? '1'), keepFiles: true });
  for (const g of fleet.gateways) {
    process.stdout.write(`${JSON.stringify({ index: g.index, baseUrl: g.baseUrl, root: g.root, pid: g.process.pid, startMs: Math.round(g.startMs) })}\n`);
  }
  // The children are detached and unref'd: keep this process alive until told to stop them.
  const keepAlive = setInterval(() => {}, 60_000);
  const shutdown = (): void => {
    clearInterval(keepAlive);
    void fleet.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
