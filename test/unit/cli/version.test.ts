// `clawstorm --version` names the release in package.json and the Node it runs on (the pinned 24,
// whatever `node` is on PATH), and exits 0.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../../..');

describe('clawstorm --version', () => {
  it('prints the package version, the commit and Node 24', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = await execa(path.join(REPO, 'bin/clawstorm'), ['--version'], { reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^clawstorm ${pkg.version.replaceAll('.', '\\.')}( \\([0-9a-f]{7,}\\))? on node v24\\.`));
  }, 70_000);
});
