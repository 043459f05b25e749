import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { EXIT, exitCodeFor, errorLine } from '../../../src/cli/errors.ts';
import { MissingBinaryError } from '../../../src/util/proc.ts';
import { DatabaseConfigError } from '../../../src/testbed/database.ts';
import { registerSecret } from '../../../src/util/redact.ts';

let tmp: string;
let savedRoot: string | undefined;
let stderr: string;
let stdout: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-cli-'));
  savedRoot = process.env.CLAWSTORM_STATE_DIR;
  process.env.CLAWSTORM_STATE_DIR = tmp;
  stderr = '';
  stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  if (savedRoot === undefined) delete process.env.CLAWSTORM_STATE_DIR;
  else process.env.CLAWSTORM_STATE_DIR = savedRoot;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('clawstorm CLI', () => {
  it('usage errors exit 2 with one line', async () => {
    expect(await main(['xyzzy-no-such-command'])).toBe(EXIT.usage);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/Unknown argument: xyzzy-no-such-command/);
    stderr = '';
    expect(await main(['testbed', 'up', '--replicas', '0'])).toBe(EXIT.usage);
    expect(stderr).toMatch(/--replicas must be an integer/);
    expect(await main([])).toBe(EXIT.usage);
  });

  it('status without a test bed is a usage error naming the state root', async () => {
    expect(await main(['testbed', 'status'])).toBe(EXIT.usage);
    expect(stderr).toContain(tmp);
  });

  it('down without a test bed is a no-op that succeeds', async () => {
    expect(await main(['testbed', 'down'])).toBe(EXIT.ok);
    expect(await main(['testbed', 'down', '--all'])).toBe(EXIT.ok);
  });

  it('list prints the beds (none)', async () => {
    expect(await main(['testbed', 'list', '--json'])).toBe(EXIT.ok);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('maps errors to exit codes and one redacted line', () => {
    expect(exitCodeFor(new MissingBinaryError('haproxy', 'haproxy'))).toBe(EXIT.usage);
    expect(new MissingBinaryError('haproxy', 'haproxy').message).toBe("haproxy not found on PATH: install the Debian package 'haproxy'");
    expect(exitCodeFor(new DatabaseConfigError('x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new Error('gw-1 did not become healthy'))).toBe(EXIT.inconclusive);
    registerSecret('sekrit-token-value-123456');
    expect(errorLine(new Error('bad\nBearer sekrit-token-value-123456'))).toBe('bad | Bearer ***');
  });
});
