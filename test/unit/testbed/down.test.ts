import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stopTestbed } from '../../../src/testbed/down.ts';
import { readState, writeState, type TestbedState } from '../../../src/testbed/state.ts';
import { ownsRecord } from '../../../src/util/supervise.ts';
import { isListening } from '../../../src/util/ports.ts';
import { isAlive } from '../../../src/util/proc.ts';

// `down` against a state file recording real (harmless) processes: a listener that stands in
// for a gateway, and a pid that now runs something else.
let tmp: string;
let savedRoot: string | undefined;
const spawned: number[] = [];
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-down-'));
  savedRoot = process.env.CLAWSTORM_STATE_DIR;
  process.env.CLAWSTORM_STATE_DIR = path.join(tmp, 'root');
});
afterEach(() => {
  for (const pid of spawned.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (savedRoot === undefined) delete process.env.CLAWSTORM_STATE_DIR;
  else process.env.CLAWSTORM_STATE_DIR = savedRoot;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const LISTENER = `
const net = require('node:net');
const srv = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'));
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200));
setInterval(() => {}, 1000);
`;

async function startListener(tag: string): Promise<{ pid: number; port: number; args: string[] }> {
  const args = ['-e', LISTENER, tag];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  child.unref();
  spawned.push(child.pid!);
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { pid: child.pid!, port, args };
}

describe('testbed down', () => {
  it('stops what it recorded, frees its ports, leaves a recycled pid alone, and is idempotent', async () => {
    const gw = await startListener('clawstorm-test-gw');
    const dir = path.join(tmp, 'bed');
    fs.mkdirSync(dir);
    const sock = path.join(dir, 'fake.sock');
    fs.writeFileSync(sock, '');
    const state: TestbedState = {
      version: 1,
      id: 'unit-bed',
      stateDir: dir,
      startedAt: new Date().toISOString(),
      phase: 'up',
      processes: [
        { name: 'gw-1', role: 'gateway', pid: gw.pid, command: process.execPath, args: gw.args, logFile: '/dev/null', ports: [gw.port] },
        // This test process is alive, but it is not "redis-server": down must not touch it.
        { name: 'redis', role: 'redis', pid: process.pid, command: '/usr/bin/redis-server', args: ['--port', '1'], logFile: '/dev/null', ports: [] },
      ],
      sockets: [sock],
      notes: [],
    };
    writeState(state);
    expect(ownsRecord(state.processes[0]!)).toBe(true);
    expect(ownsRecord(state.processes[1]!)).toBe(false);
    expect(await isListening(gw.port)).toBe(true);

    const r = await stopTestbed(dir);
    expect(r.stopped).toEqual(['gw-1']);
    expect(r.leftAlone).toEqual([`redis (pid ${process.pid} now runs something else)`]);
    expect(r.problems).toEqual([]);
    expect(isAlive(gw.pid)).toBe(false);
    expect(await isListening(gw.port)).toBe(false);
    expect(fs.existsSync(sock)).toBe(false);
    expect(readState(dir).phase).toBe('down');

    const again = await stopTestbed(dir);
    expect(again.stopped).toEqual([]);
    expect(again.alreadyGone).toEqual(['gw-1']);
    expect(again.problems).toEqual([]);
  });

  it('a node process with the same binary but other arguments is not ours', async () => {
    const other = await startListener('someone-else');
    expect(ownsRecord({ pid: other.pid, command: process.execPath, args: ['-e', LISTENER, 'clawstorm-test-gw'] })).toBe(false);
    expect(ownsRecord({ pid: other.pid, command: process.execPath, args: other.args })).toBe(true);
  });

  it('purges the state dir after a clean stop when asked', async () => {
    const dir = path.join(tmp, 'bed2');
    fs.mkdirSync(dir);
    writeState({ version: 1, id: 'unit-bed-2', stateDir: dir, startedAt: new Date().toISOString(), phase: 'failed', processes: [], sockets: [], notes: [] });
    const r = await stopTestbed(dir, { purge: true });
    expect(r.purged).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
