// The state file of one test bed: what `down`, `status` and the control functions rely on. It is
// written after every process start (atomically), so a half-finished `up` can still be cleaned.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { AnyTestbedEndpointsSchema, ProcessRecordSchema } from './types.ts';

export const STATE_FILE = 'state.json';

export const ProcessRoleSchema = z.enum([
  'redis',
  'pglite',
  'upstreams',
  'policy',
  'gateway',
  'haproxy',
  'exporter',
  'prometheus',
  'notifier',
  'autoscaler',
]);
export type ProcessRole = z.infer<typeof ProcessRoleSchema>;

/** A ProcessRecord (types.ts) plus what the launcher needs to restart and verify it. */
export const TestbedProcessSchema = ProcessRecordSchema.extend({
  role: ProcessRoleSchema,
  /** Loopback ports the process listens on; `down` checks they are free afterwards. */
  ports: z.array(z.number().int()).default([]),
  /** 200 here means healthy (`/healthz`, `/health`, `/metrics`, `/-/ready`). */
  healthUrl: z.string().optional(),
  startedAt: z.string().optional(),
  /** Restart with this working directory and environment (never secrets: those are in config files). */
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  /**
   * The descendant (by its process name, /proc/<pid>/comm) that serves: crash and hang signals go
   * to it, not to a supervising parent that would outlive it (OpenClaw's `openclaw-gateway`).
   */
  serverComm: z.string().optional(),
  /** Descendants seen after the last start (pid + command line): killed on restart and `down` if left over. */
  children: z.array(z.object({ pid: z.number().int(), argv: z.string() })).optional(),
});
export type TestbedProcess = z.output<typeof TestbedProcessSchema>;

export const TestbedPhaseSchema = z.enum(['starting', 'up', 'failed', 'stopping', 'down']);
export type TestbedPhase = z.infer<typeof TestbedPhaseSchema>;

export const TestbedStateSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  stateDir: z.string(),
  startedAt: z.string(),
  phase: TestbedPhaseSchema,
  /** Why `up` failed (redacted), when it did. */
  error: z.string().optional(),
  /** Complete once `up` finished; `down` works from `processes` alone. */
  endpoints: AnyTestbedEndpointsSchema.optional(),
  processes: z.array(TestbedProcessSchema),
  /** A database this test bed created on a shared server (dropped by `down`). */
  createdDatabase: z.object({ name: z.string(), adminUrl: z.string() }).optional(),
  /** Unix sockets to remove on `down`. */
  sockets: z.array(z.string()).default([]),
  /** Things skipped or worth knowing (an exporter not installed, …). */
  notes: z.array(z.string()).default([]),
  stoppedAt: z.string().optional(),
  /** `testbed up --autoscale`: the autoscaler file, its process's config, and its decision log. */
  autoscale: z.object({ file: z.string(), configFile: z.string(), logFile: z.string(), syncPeriodSeconds: z.number(), settleSeconds: z.number() }).optional(),
});
export type TestbedState = z.output<typeof TestbedStateSchema>;

/** Where test beds live unless told otherwise: `$CLAWSTORM_STATE_DIR` or `~/.cache/clawstorm/testbeds`. */
export function stateRoot(): string {
  const env = process.env.CLAWSTORM_STATE_DIR;
  if (env) return path.resolve(env);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'clawstorm', 'testbeds');
}

/** `20260517-101502-3fa9`: sortable, unique enough, and usable in a database name. */
export function newTestbedId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}` +
    `-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

export function stateFilePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE);
}

export class StateNotFoundError extends Error {}

export function readState(stateDir: string): TestbedState {
  const file = stateFilePath(stateDir);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StateNotFoundError(`no test bed state at ${file}`);
    throw new StateNotFoundError(`${file}: unreadable test bed state: ${(err as Error).message}`);
  }
  const parsed = TestbedStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StateNotFoundError(`${file}: not a test bed state file (${issue?.path.join('.') ?? ''}: ${issue?.message ?? '?'})`);
  }
  return parsed.data;
}

/** Atomic replace, mode 0600 (it can hold a database URL with a password). */
export function writeState(state: TestbedState): void {
  writeFileAtomic(stateFilePath(state.stateDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, forceMode: true });
}

/** Read-modify-write of the state file. */
export function updateState(stateDir: string, fn: (s: TestbedState) => void): TestbedState {
  const s = readState(stateDir);
  fn(s);
  writeState(s);
  return s;
}

/**
 * A state directory from a path or an id (looked up under the state root). Paths are anything
 * with a slash or an existing directory holding a state file.
 */
export function resolveStateDir(dirOrId: string): string {
  if (dirOrId.includes('/') || dirOrId.startsWith('.')) return path.resolve(dirOrId);
  const underRoot = path.join(stateRoot(), dirOrId);
  if (fs.existsSync(stateFilePath(underRoot))) return fs.realpathSync(underRoot);
  if (fs.existsSync(stateFilePath(dirOrId))) return path.resolve(dirOrId);
  return underRoot;
}

export interface ListedTestbed {
  stateDir: string;
  state: TestbedState;
}

/**
 * Every test bed known under the state root, newest first. Test beds started with an explicit
 * `--state-dir` elsewhere are linked into the root (a symlink named by id), so they are found too.
 */
export function listTestbeds(root = stateRoot()): ListedTestbed[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: ListedTestbed[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    let dir: string;
    try {
      dir = fs.realpathSync(path.join(root, name));
    } catch {
      continue; // dangling link
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    try {
      out.push({ stateDir: dir, state: readState(dir) });
    } catch {
      // not a test bed directory
    }
  }
  return out.sort((a, b) => b.state.startedAt.localeCompare(a.state.startedAt));
}

/** The newest test bed that is not already down (else the newest at all). */
export function latestTestbed(root = stateRoot()): ListedTestbed | undefined {
  const all = listTestbeds(root);
  return all.find((t) => t.state.phase !== 'down') ?? all[0];
}

/** Link an out-of-root state dir into the root so `down`/`status` without arguments find it. */
export function linkIntoRoot(id: string, stateDir: string, root = stateRoot()): string | undefined {
  const inRoot = path.join(root, id);
  if (path.resolve(stateDir) === inRoot) return undefined;
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  try {
    fs.symlinkSync(stateDir, inRoot, 'dir');
    return inRoot;
  } catch {
    return undefined;
  }
}

export function unlinkFromRoot(id: string, stateDir: string, root = stateRoot()): void {
  const inRoot = path.join(root, id);
  try {
    if (!fs.lstatSync(inRoot).isSymbolicLink()) return;
    if (path.resolve(root, fs.readlinkSync(inRoot)) === path.resolve(stateDir)) fs.unlinkSync(inRoot);
  } catch {
    // already gone or not ours
  }
}
