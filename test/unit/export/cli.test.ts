// The export commands through the CLI: files written and exit 0, bad input one line and exit 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { EXIT } from '../../../src/cli/errors.ts';
import { REPO_ROOT } from '../../../src/export/common.ts';
import { FIXTURE_TARGET } from './helpers.ts';

let tmp: string;
let stderr: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-export-cli-'));
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('clawstorm export', () => {
  it('k6: writes scripts and manifests, exit 0', async () => {
    const out = path.join(tmp, 'k6');
    expect(await main(['export', 'k6', 'openclaw/tools-invoke', '--target', FIXTURE_TARGET, '--out', out, '--runners', '2', '--run-id', 'cli-1'])).toBe(EXIT.ok);
    expect(fs.existsSync(path.join(out, 'tools-invoke.ts'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'k8s', 'tools-invoke.yaml'), 'utf8')).toContain('parallelism: 2');
    expect(stderr).toMatch(/wrote \d+ files of run cli-1/);
  });

  it('k8s: writes the Jobs and the Dockerfile, exit 0', async () => {
    const out = path.join(tmp, 'k8s');
    expect(await main(['export', 'k8s', '--target', FIXTURE_TARGET, '--out', out, '--runners', '3', '--profile', 'full', '--run-id', 'cli-2'])).toBe(EXIT.ok);
    expect(fs.readFileSync(path.join(out, 'k8s', 'run.yaml'), 'utf8')).toContain('completions: 3');
    expect(fs.existsSync(path.join(out, 'Dockerfile'))).toBe(true);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['no target', ['export', 'k6', '--out', 'x'], /Missing required argument: target/],
    ['a test bed target', ['export', 'k8s', '--target', path.join(REPO_ROOT, 'profiles/local.yaml'), '--out', 'x'], /local test bed profile/],
    ['an unknown scenario', ['export', 'k6', 'nope', '--target', FIXTURE_TARGET, '--out', 'x'], /unknown scenario "nope"/],
    ['no runners', ['export', 'k8s', '--target', FIXTURE_TARGET, '--out', 'x', '--runners', '0'], /--runners must be a whole number/],
    ['a bad profile', ['export', 'k6', '--target', FIXTURE_TARGET, '--out', 'x', '--profile', 'huge'], /--profile must be smoke or full \(got "huge"\)/],
    ['an unknown kind', ['export', 'helm'], /unknown export kind "helm": expected k6 or k8s/],
  ];
  for (const [what, argv, why] of bad) {
    it(`${what}: one line, exit 2, nothing written`, async () => {
      const out = path.join(tmp, 'bad');
      const args = argv.map((a) => (a === 'x' ? out : a));
      expect(await main(args)).toBe(EXIT.usage);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(why);
      expect(fs.existsSync(out)).toBe(false);
    });
  }
});
