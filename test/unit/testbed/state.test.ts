import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  latestTestbed,
  linkIntoRoot,
  listTestbeds,
  newTestbedId,
  readState,
  resolveStateDir,
  StateNotFoundError,
  stateRoot,
  unlinkFromRoot,
  writeState,
  type TestbedState,
} from '../../../src/testbed/state.ts';
import { createTokens, readTokenFile } from '../../../src/testbed/tokens.ts';
import { checkDatabaseUrl, DatabaseConfigError, testbedDatabaseName, withDatabase } from '../../../src/testbed/database.ts';
import { exporterDsn } from '../../../harness/launch/exporters.ts';
import { redact } from '../../../src/util/redact.ts';

let tmp: string;
let savedRoot: string | undefined;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-state-'));
  savedRoot = process.env.CLAWSTORM_STATE_DIR;
  process.env.CLAWSTORM_STATE_DIR = path.join(tmp, 'root');
});
afterEach(() => {
  if (savedRoot === undefined) delete process.env.CLAWSTORM_STATE_DIR;
  else process.env.CLAWSTORM_STATE_DIR = savedRoot;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function bed(dir: string, id: string, startedAt: string, phase: TestbedState['phase']): TestbedState {
  fs.mkdirSync(dir, { recursive: true });
  const s: TestbedState = { version: 1, id, stateDir: dir, startedAt, phase, processes: [], sockets: [], notes: [] };
  writeState(s);
  return s;
}

describe('test bed state', () => {
  it('ids sort by time and make valid database names', () => {
    const a = newTestbedId(new Date('2026-01-02T03:04:05Z'));
    expect(a).toMatch(/^20260102-030405-[0-9a-f]{6}$/);
    expect(testbedDatabaseName(a)).toMatch(/^clawstorm_20260102_030405_[0-9a-f]{6}$/);
    expect(newTestbedId()).not.toBe(newTestbedId());
  });

  it('round-trips the state file with mode 0600 and rejects a foreign file', () => {
    const dir = path.join(tmp, 'b1');
    const s = bed(dir, 'b1', '2026-01-01T00:00:00.000Z', 'up');
    s.processes.push({ name: 'redis', pid: 1, command: '/usr/bin/redis-server', args: ['--port', '1'], logFile: '/x', role: 'redis', ports: [1] });
    writeState(s);
    expect(readState(dir).processes[0]?.name).toBe('redis');
    expect(fs.statSync(path.join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    fs.writeFileSync(path.join(dir, 'state.json'), '{"hello":1}');
    expect(() => readState(dir)).toThrow(StateNotFoundError);
    expect(() => readState(path.join(tmp, 'nope'))).toThrow(/no test bed state/);
  });

  it('lists beds newest first, finds linked out-of-root beds, prefers one that is not down', () => {
    const root = stateRoot();
    bed(path.join(root, 'old'), 'old', '2026-01-01T00:00:00.000Z', 'up');
    bed(path.join(root, 'newer'), 'newer', '2026-01-03T00:00:00.000Z', 'down');
    const outside = path.join(tmp, 'elsewhere');
    bed(outside, 'mid', '2026-01-02T00:00:00.000Z', 'up');
    expect(linkIntoRoot('mid', outside)).toBe(path.join(root, 'mid'));
    expect(listTestbeds().map((t) => t.state.id)).toEqual(['newer', 'mid', 'old']);
    expect(latestTestbed()?.state.id).toBe('mid');
    expect(resolveStateDir('mid')).toBe(fs.realpathSync(outside));
    expect(resolveStateDir(outside)).toBe(outside);
    unlinkFromRoot('mid', outside);
    expect(fs.existsSync(path.join(root, 'mid'))).toBe(false);
    expect(latestTestbed()?.state.id).toBe('old');
  });
});

describe('tokens', () => {
  it('are random, in 0600 files, and redacted everywhere', () => {
    const { files, tokens } = createTokens(tmp);
    for (const kind of ['gateway', 'hook', 'admin', 'probe'] as const) {
      expect(fs.statSync(files[kind]).mode & 0o777).toBe(0o600);
      expect(tokens[kind].length).toBeGreaterThanOrEqual(40);
      expect(readTokenFile(files[kind])).toBe(tokens[kind]);
      expect(redact(`Bearer ${tokens[kind]}`)).toBe('Bearer ***');
    }
    expect(new Set(Object.values(tokens)).size).toBe(4);
  });
});

describe('database URL', () => {
  it('accepts loopback and unix sockets only', () => {
    expect(() => checkDatabaseUrl('postgres://u:p@127.0.0.1:5432/x')).not.toThrow();
    expect(() => checkDatabaseUrl('postgresql://u@localhost/x')).not.toThrow();
    expect(() => checkDatabaseUrl('postgres:///x?host=/var/run/postgresql')).not.toThrow();
    expect(() => checkDatabaseUrl('postgres://u:secretpw@db.example.com/x')).toThrow(DatabaseConfigError);
    expect(() => checkDatabaseUrl('postgres://u:secretpw@db.example.com/x')).toThrow(/^(?!.*secretpw)/);
    expect(() => checkDatabaseUrl('mysql://127.0.0.1/x')).toThrow(/scheme/);
  });

  it('swaps the database name and keeps everything else', () => {
    expect(withDatabase('postgres://u:p@127.0.0.1:5433/postgres?sslmode=disable', 'clawstorm_x')).toBe('postgres://u:p@127.0.0.1:5433/clawstorm_x?sslmode=disable');
  });

  it('turns TLS off for the postgres exporter on loopback unless the URL chose', () => {
    expect(exporterDsn('postgres://u@127.0.0.1:5432/db')).toBe('postgres://u@127.0.0.1:5432/db?sslmode=disable');
    expect(exporterDsn('postgres://u@127.0.0.1:5432/db?sslmode=require')).toBe('postgres://u@127.0.0.1:5432/db?sslmode=require');
  });
});
