import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './wait.ts';

export interface StartedProcess {
  name: string;
  pid: number;
  command: string;
  args: string[];
  logFile: string;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Detached processes outlive the CLI that started them (`testbed up` leaves them running). */
  detached?: boolean;
}

/** Start a long-running child whose stdout/stderr go to a log file. */
export function startProcess(opts: StartOptions): StartedProcess {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: opts.detached ?? true,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  if (child.pid === undefined) {
    throw new Error(`could not start ${opts.name} (${opts.command}); see ${opts.logFile}`);
  }
  if (opts.detached ?? true) child.unref();
  return { name: opts.name, pid: child.pid, command: opts.command, args: opts.args, logFile: opts.logFile };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0: read its state.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's command line, or undefined when it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Stop a process we started, and only that one: a recycled pid running something else is left
 * alone. SIGTERM first, SIGKILL after the grace period. A stopped (SIGSTOP) process is continued
 * so it can act on SIGTERM.
 */
export async function stopProcess(p: Pick<StartedProcess, 'pid' | 'command'>, graceMs = 5_000): Promise<void> {
  if (!ownsPid(p)) return;
  signal(p.pid, 'SIGCONT');
  signal(p.pid, 'SIGTERM');
  try {
    await waitFor(() => !isAlive(p.pid), { timeoutMs: graceMs, intervalMs: 50, what: `pid ${p.pid} to exit` });
  } catch {
    signal(p.pid, 'SIGKILL');
    await waitFor(() => !isAlive(p.pid), { timeoutMs: 5_000, intervalMs: 50, what: `pid ${p.pid} to die` });
  }
}

/** The pid is alive and still runs the command we started under it. */
export function ownsPid(p: Pick<StartedProcess, 'pid' | 'command'>): boolean {
  if (!isAlive(p.pid)) return false;
  const argv = cmdline(p.pid);
  if (argv === undefined || argv.length === 0) return false;
  const want = path.basename(p.command);
  return argv.some((a) => path.basename(a) === want);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Find a binary on PATH (or an env override); undefined when absent. */
export function findBinary(name: string, envOverride?: string): string | undefined {
  const override = envOverride ? process.env[envOverride] : undefined;
  if (override) return fs.existsSync(override) ? override : undefined;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export class MissingBinaryError extends Error {
  readonly binary: string;
  readonly debianPackage: string;
  constructor(binary: string, debianPackage: string, envOverride?: string) {
    const hint = envOverride ? ` (or set ${envOverride})` : '';
    super(`${binary} not found on PATH: install the Debian package '${debianPackage}'${hint}`);
    this.binary = binary;
    this.debianPackage = debianPackage;
  }
}

/** A binary that must exist: its path, or a MissingBinaryError naming the package. */
export function requireBinary(name: string, debianPackage: string, envOverride?: string): string {
  const found = findBinary(name, envOverride);
  if (found === undefined) throw new MissingBinaryError(name, debianPackage, envOverride);
  return found;
}

export interface ProcessRef {
  pid: number;
  /** The command line, NUL-separated arguments joined by spaces: a recycled pid will not match it. */
  argv: string;
}

/** Every descendant of `root` with its command line, breadth first, read from /proc. */
export function descendants(root: number): ProcessRef[] {
  const children = new Map<number, number[]>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: ProcessRef[] = [];
  const queue = [...(children.get(root) ?? [])];
  for (let i = 0; i < 100_000 && queue.length > 0; i++) {
    const pid = queue.shift()!;
    out.push({ pid, argv: (cmdline(pid) ?? []).join(' ') });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The process name the kernel shows (`/proc/<pid>/comm`, which a process may set itself). */
export function procComm(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The process calls itself `name` (Node's process.title): its comm, which the kernel cuts to 15
 * bytes (`openclaw-gateway` reads `openclaw-gatewa`), or its argv[0].
 */
export function isNamed(pid: number, name: string): boolean {
  return procComm(pid) === name.slice(0, 15) || cmdline(pid)?.[0] === name;
}

/**
 * SIGKILL whatever of `refs` still runs the same command line (and nothing else), and wait
 * (bounded) until those are gone. Returns how many were left over.
 */
export async function killLeftovers(refs: readonly ProcessRef[], timeoutMs = 3_000): Promise<number> {
  const hit: number[] = [];
  for (const d of refs) {
    if (isAlive(d.pid) && (cmdline(d.pid) ?? []).join(' ') === d.argv) {
      signal(d.pid, 'SIGKILL');
      hit.push(d.pid);
    }
  }
  if (hit.length > 0) await waitFor(() => hit.every((pid) => !isAlive(pid)), { timeoutMs, intervalMs: 20, what: `left-over process(es) ${hit.join(', ')} to die` });
  return hit.length;
}

/**
 * Stop a supervisor and its tree: the descendants are remembered first (a spawn broker may sit in
 * a process group of its own), the top gets stopProcess, the others `childGraceMs` to follow it,
 * and whatever of the remembered tree is still there after that is killed.
 */
export async function stopProcessTree(p: Pick<StartedProcess, 'pid' | 'command'>, graceMs: number, childGraceMs: number): Promise<void> {
  const tree = isAlive(p.pid) ? descendants(p.pid) : [];
  await stopProcess(p, graceMs);
  if (childGraceMs > 0 && tree.some((d) => isAlive(d.pid))) {
    await waitFor(() => tree.every((d) => !isAlive(d.pid)), { timeoutMs: childGraceMs, intervalMs: 50, what: 'children to exit' }).catch(() => {});
  }
  await killLeftovers(tree);
}
