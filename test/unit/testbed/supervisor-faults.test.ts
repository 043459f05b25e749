// Faults on a gateway that runs as a supervisor with a forked server (the OpenClaw CLI forks
// `openclaw-gateway`, which starts a spawn broker in a process group of its own). Crash and hang
// must hit the server, a restart must come back with the recorded cwd and environment, and
// neither a crash nor `down` may leave the broker behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continueGateway, startGateway, stopGateway } from '../../../src/testbed/control.ts';
import { stopTestbed } from '../../../src/testbed/down.ts';
import { readState, writeState, type TestbedState } from '../../../src/testbed/state.ts';
import { freePort } from '../../../src/util/ports.ts';
import { descendants, isAlive, isNamed } from '../../../src/util/proc.ts';
import { procState } from '../../../src/util/supervise.ts';
import { waitFor } from '../../../src/util/wait.ts';

const SERVER_NAME = 'fake-openclaw-gateway'; // longer than 15 bytes, like the real one

// top: forks the server and exits when it does (as openclaw.mjs does with OPENCLAW_NO_RESPAWN).
const TOP = `
const { fork } = require('node:child_process');
const c = fork(__dirname + '/server.cjs', [], { stdio: 'inherit' });
c.on('exit', () => process.exit(1));
process.on('SIGTERM', () => c.kill('SIGTERM'));
`;
// server: names itself, serves /health on PORT, starts a detached "broker" (own process group).
const SERVER = `
process.title = ${JSON.stringify(SERVER_NAME)};
const { spawn } = require('node:child_process');
spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'fake-broker'], { detached: true, stdio: 'ignore' }).unref();
const http = require('node:http');
http.createServer((req, res) => res.end(JSON.stringify({ cwd: process.cwd(), marker: process.env.FAKE_MARKER }))).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

let tmp: string;
let stateDir: string;
let port: number;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-sup-'));
  stateDir = path.join(tmp, 'bed');
  fs.mkdirSync(stateDir);
  const work = path.join(tmp, 'work');
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(work, 'top.cjs'), TOP);
  fs.writeFileSync(path.join(work, 'server.cjs'), SERVER);
  port = await freePort();
  const state: TestbedState = {
    version: 1,
    id: 'sup-bed',
    stateDir,
    startedAt: new Date().toISOString(),
    phase: 'up',
    processes: [
      {
        name: 'gw-1',
        role: 'gateway',
        pid: 999_999_9, // not running yet: startGateway launches it
        command: process.execPath,
        args: [path.join(work, 'top.cjs')],
        logFile: path.join(tmp, 'gw-1.log'),
        ports: [port],
        healthUrl: `http://127.0.0.1:${port}/health`,
        cwd: work,
        env: { PORT: String(port), FAKE_MARKER: 'from-the-record', PATH: process.env.PATH ?? '' },
        serverComm: SERVER_NAME,
      },
    ],
    sockets: [],
    notes: [],
  };
  writeState(state);
});

afterAll(async () => {
  await stopTestbed(stateDir).catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

const record = () => readState(stateDir).processes[0]!;
const serverPid = () => descendants(record().pid).find((d) => isNamed(d.pid, SERVER_NAME))?.pid;
const brokerPids = () => descendants(record().pid).filter((d) => d.argv.includes('fake-broker')).map((d) => d.pid);

describe('faults on a supervised gateway', () => {
  it('starts from the record: its cwd and environment, with its tree remembered', async () => {
    const r = await startGateway(stateDir, 'gw-1', { timeoutMs: 10_000 });
    expect(r.started).toBe(true);
    const body = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { cwd: string; marker: string };
    expect(body.marker).toBe('from-the-record');
    expect(body.cwd).toBe(path.join(tmp, 'work'));
    await waitFor(() => brokerPids().length === 1, { timeoutMs: 5_000, intervalMs: 50, what: 'the broker' });
    expect(record().children?.length ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('hang stops the server, not the supervisor; continue resumes it', async () => {
    const srv = serverPid()!;
    expect(srv).toBeDefined();
    await stopGateway(stateDir, 'gw-1', 'SIGSTOP');
    expect(procState(srv)).toBe('T');
    expect(procState(record().pid)).not.toBe('T');
    await continueGateway(stateDir, 'gw-1');
    expect(procState(srv)).not.toBe('T');
  });

  it('crash kills the server; the supervisor goes with it and no broker is left behind', async () => {
    const top = record().pid;
    const srv = serverPid()!;
    const brokers = brokerPids();
    expect(brokers).toHaveLength(1);
    const r = await stopGateway(stateDir, 'gw-1', 'SIGKILL');
    expect(r.done).toBe(true);
    expect(isAlive(srv)).toBe(false);
    expect(isAlive(top)).toBe(false);
    expect(brokers.every((b) => !isAlive(b))).toBe(true);
  });

  it('restarts on the same port, and `down` leaves nothing of the tree', async () => {
    await startGateway(stateDir, 'gw-1', { timeoutMs: 10_000 });
    await waitFor(() => brokerPids().length === 1, { timeoutMs: 5_000, intervalMs: 50, what: 'the broker' });
    const all = [record().pid, ...descendants(record().pid).map((d) => d.pid)];
    const report = await stopTestbed(stateDir);
    expect(report.problems).toEqual([]);
    expect(all.filter((p) => isAlive(p))).toEqual([]);
  });
});
