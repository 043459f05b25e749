// The reference fleet's Node processes (gateway, policy sidecar, upstreams, PGlite server): each
// is `node <script> --config FILE`, healthy when its health URL answers 200.
import fs from 'node:fs';
import type { StartedProcess } from '../util/proc.ts';
import { REPO_ROOT } from './paths.ts';
import { httpOk, launch } from '../util/supervise.ts';

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
