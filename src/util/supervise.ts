// Starting one long-running process and waiting for it to be ready, with a deadline, failing
// fast (with the tail of its log) when it exits instead.
import fs from 'node:fs';
import { cmdline, isAlive, ownsPid, startProcess, stopProcess, type StartedProcess, type StartOptions } from './proc.ts';
import { waitFor } from './wait.ts';
import { logSize, withLogTail } from './log-tail.ts';

/** What to start (as `startProcess` takes it) and how to tell it is ready. */
export interface LaunchSpec extends StartOptions {
  /** Resolves true once the process serves; polled every `intervalMs`. */
  ready: () => Promise<boolean>;
  /** Human description of what `ready` checks, for the timeout message. */
  readyWhat: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called right after spawn, before waiting: the caller records the pid (state file). */
  onSpawn?: (p: StartedProcess) => void;
  /** Aborting stops the wait (and the process) at once. */
  signal?: AbortSignal;
}

export class LaunchError extends Error {
  readonly process: string;
  readonly logFile: string;
  /** The process died because its port was taken (worth one retry on a new port). */
  readonly addressInUse: boolean;
  /** The start-up was called off (another part failed, or Ctrl-C); not this process's fault. */
  readonly aborted: boolean;
  constructor(message: string, proc: string, logFile: string, addressInUse: boolean, aborted = false) {
    super(message);
    this.process = proc;
    this.logFile = logFile;
    this.addressInUse = addressInUse;
    this.aborted = aborted;
  }
}

const IN_USE = /address already in use|EADDRINUSE|Address in use|bind\(\) .*failed|cannot bind socket/i;

/** Start, then wait for `ready`; on failure the process is stopped and a LaunchError thrown. */
export async function launch(spec: LaunchSpec): Promise<StartedProcess> {
  if (spec.signal?.aborted) throw new LaunchError(`${spec.name}: start-up called off`, spec.name, spec.logFile, false, true);
  const from = logSize(spec.logFile);
  const p = startProcess({
    name: spec.name,
    command: spec.command,
    args: spec.args,
    logFile: spec.logFile,
    env: spec.env,
    cwd: spec.cwd,
    detached: spec.detached ?? true,
  });
  spec.onSpawn?.(p);
  let exited = false;
  let aborted = false;
  try {
    await waitFor(
      async () => {
        if (spec.signal?.aborted) {
          aborted = true;
          return true;
        }
        if (!isAlive(p.pid)) {
          exited = true;
          return true;
        }
        return spec.ready();
      },
      { timeoutMs: spec.timeoutMs, intervalMs: spec.intervalMs ?? 100, what: `${spec.name} (${spec.readyWhat})` },
    );
  } catch (err) {
    await stopProcess(p, 2_000).catch(() => {});
    throw new LaunchError(withLogTail((err as Error).message, spec.logFile, from), spec.name, spec.logFile, inUse(spec.logFile, from));
  }
  if (aborted) {
    await stopProcess(p, 2_000).catch(() => {});
    throw new LaunchError(`${spec.name}: start-up called off`, spec.name, spec.logFile, false, true);
  }
  if (exited) {
    throw new LaunchError(
      withLogTail(`${spec.name} exited during start-up (${spec.command} ${spec.args.join(' ')})`, spec.logFile, from),
      spec.name,
      spec.logFile,
      inUse(spec.logFile, from),
    );
  }
  return p;
}

function inUse(logFile: string, from: number): boolean {
  try {
    return IN_USE.test(fs.readFileSync(logFile, 'utf8').slice(from));
  } catch {
    return false;
  }
}

/**
 * The pid still runs exactly what we started: ownsPid (the command's basename is in its argv)
 * and, stricter, every recorded argument appears in its command line. `node` alone would match
 * any Node process that happened to get a recycled pid; the config-file argument does not.
 */
export function ownsRecord(p: { pid: number; command: string; args: string[] }): boolean {
  if (!ownsPid(p)) return false;
  const argv = cmdline(p.pid);
  if (argv === undefined) return false;
  // cmdline() drops empty arguments (`--save ''`), so they are not compared.
  return p.args.every((a) => a === '' || argv.includes(a));
}

/** State letter of /proc/<pid>/stat: R, S, D, T (stopped), t, Z … or undefined when gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** GET url → true on HTTP 200 within the deadline. */
export async function httpOk(url: string, timeoutMs = 1_000, headers?: Record<string, string>): Promise<boolean> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
