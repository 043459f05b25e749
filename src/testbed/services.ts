// The reference fleet's Node processes (gateway, policy sidecar, upstreams, PGlite server): each
// is `node <script> --config FILE`, healthy when its health URL answers 200.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../util/ports.ts';
import type { StartedProcess } from '../util/proc.ts';
import { REPO_ROOT } from './paths.ts';
import { httpOk, launch, LaunchError } from '../util/supervise.ts';
import type { ProcessRole, TestbedProcess } from './state.ts';

export interface NodeServiceSpec {
  name: string;
  script: string;
  configFile: string;
  logFile: string;
  /** GET → 200 means healthy. Omit to use `ready` instead. */
  healthUrl?: string;
  ready?: () => Promise<boolean>;
  timeoutMs: number;
  /** Default: this process's Node (`process.execPath`). */
  command?: string;
  onSpawn?: (p: StartedProcess) => void;
  signal?: AbortSignal;
}

export class MissingScriptError extends Error {}

export function nodeArgs(script: string, configFile: string): string[] {
  return [script, '--config', configFile];
}

/** Write a harness process's config: JSON, mode 0600 (it holds tokens). */
export function writeConfigFile(file: string, config: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export async function startNodeService(spec: NodeServiceSpec): Promise<StartedProcess> {
  if (!fs.existsSync(spec.script)) {
    throw new MissingScriptError(`${spec.name}: ${spec.script} does not exist (not built yet?)`);
  }
  const healthUrl = spec.healthUrl;
  const ready = spec.ready ?? (healthUrl ? () => httpOk(healthUrl, 1_000) : undefined);
  if (ready === undefined) throw new Error(`${spec.name}: neither a health URL nor a readiness check`);
  return launch({
    name: spec.name,
    command: spec.command ?? process.execPath,
    args: nodeArgs(spec.script, spec.configFile),
    logFile: spec.logFile,
    cwd: REPO_ROOT,
    ready,
    readyWhat: healthUrl ? `GET ${healthUrl} → 200` : 'readiness',
    timeoutMs: spec.timeoutMs,
    intervalMs: 100,
    onSpawn: spec.onSpawn,
    signal: spec.signal,
  });
}

export interface SlotServiceSpec {
  role: ProcessRole;
  name: string;
  script: string;
  /** The port it is to listen on; replaced (with its URL) when that port was taken meanwhile. */
  slot: { port: number; url: string };
  /** The config for a port (written to `<configDir>/<name>.json`). */
  configFor: (port: number) => unknown;
  healthPath: string;
  configDir: string;
  logDir: string;
  timeoutMs: number;
  /** Put the process into the state file the moment it has a pid. */
  record: (role: ProcessRole, p: StartedProcess, extra: Partial<TestbedProcess>) => void;
  /** Take a record out again (a start that lost its port). */
  forget: (pid: number) => void;
  signal?: AbortSignal;
}

/**
 * Start one harness service on its slot's port, recorded as soon as it runs; when the port was
 * taken between choosing and binding it, once more on a fresh port.
 */
export async function startServiceOnSlot(spec: SlotServiceSpec): Promise<void> {
  const { slot } = spec;
  const configFile = path.join(spec.configDir, `${spec.name}.json`);
  for (let attempt = 1; ; attempt++) {
    writeConfigFile(configFile, spec.configFor(slot.port));
    const healthUrl = `${slot.url}${spec.healthPath}`;
    let spawned: number | undefined;
    try {
      await startNodeService({
        name: spec.name,
        script: spec.script,
        configFile,
        logFile: path.join(spec.logDir, `${spec.name}.log`),
        healthUrl,
        timeoutMs: spec.timeoutMs,
        onSpawn: (p) => {
          spawned = p.pid;
          spec.record(spec.role, p, { configFile, ports: [slot.port], healthUrl });
        },
        signal: spec.signal,
      });
      return;
    } catch (err) {
      if (!(err instanceof LaunchError && err.addressInUse && attempt === 1)) throw err;
      if (spawned !== undefined) spec.forget(spawned);
      slot.port = await freePort();
      slot.url = `http://127.0.0.1:${slot.port}`;
    }
  }
}
