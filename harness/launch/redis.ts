// A private redis-server for one test bed: loopback only, no persistence, its own port and dir,
// so it never touches a developer's Redis on 6379.
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../src/util/ports.ts';
import { requireBinary, stopProcess, type StartedProcess } from '../../src/util/proc.ts';
import { launch, LaunchError } from '../../src/util/supervise.ts';

export interface StartRedisOptions {
  /** Working directory (`--dir`) and home of the log file. */
  dir: string;
  /** Default: a free loopback port (retried once if taken meanwhile). */
  port?: number;
  logFile?: string;
  readyTimeoutMs?: number;
  detached?: boolean;
  onSpawn?: (p: StartedProcess) => void;
  signal?: AbortSignal;
}

export interface RedisInstance {
  name: 'redis';
  url: string;
  port: number;
  pid: number;
  command: string;
  args: string[];
  logFile: string;
}

/** Throws MissingBinaryError('redis-server', 'redis-server') when absent (override: REDIS_SERVER_BIN). */
export async function startRedis(opts: StartRedisOptions): Promise<RedisInstance> {
  const command = requireBinary('redis-server', 'redis-server', 'REDIS_SERVER_BIN');
  const logFile = opts.logFile ?? path.join(opts.dir, 'redis.log');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    // `--save ''` and no AOF: nothing is ever written to disk; the bed's queues are throwaway.
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', opts.dir,
      '--daemonize', 'no',
      '--protected-mode', 'yes',
      '--maxclients', '2000',
      '--loglevel', 'warning',
      // Keep argv as started: `down` recognises its pid by the command line.
      '--set-proc-title', 'no',
    ];
    try {
      const p = await launch({
        name: 'redis',
        command,
        args,
        logFile,
        detached: opts.detached,
        ready: () => redisPing(port),
        readyWhat: `PING on 127.0.0.1:${port}`,
        timeoutMs: opts.readyTimeoutMs ?? 10_000,
        onSpawn: opts.onSpawn,
        signal: opts.signal,
      });
      return { name: 'redis', url: `redis://127.0.0.1:${port}`, port, pid: p.pid, command, args, logFile };
    } catch (err) {
      if (err instanceof LaunchError && err.addressInUse && !err.aborted && attempt === 1 && opts.port === undefined) continue;
      throw err;
    }
  }
}

export async function stopRedis(r: Pick<RedisInstance, 'pid' | 'command'>, graceMs = 5_000): Promise<void> {
  await stopProcess(r, graceMs);
}

/** `PING` answered `+PONG` on host:port within the deadline (plain RESP, no client library). */
export async function redisPing(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = '';
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}
