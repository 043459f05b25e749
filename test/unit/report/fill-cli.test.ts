// `clawstorm report fill` as a team runs it: an ambiguous document is refused with exit 2 and
// left as it was; --append exists and adds the table a document lacks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(REPO, 'bin/clawstorm');
const FROM = path.join(REPO, 'reports/examples/smoke-local/results.json');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-fill-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TABLE = '| Scenario | P50 | P95 | P99 | Error Rate | Status |\n|---|---|---|---|---|---|\n| Audit Write | -- | -- | -- | -- | Not run |\n';
const fill = (file: string, ...more: string[]) => execa(CLI, ['report', 'fill', file, '--from', FROM, ...more], { reject: false, timeout: 60_000, env: { CI: 'true' } });

describe('clawstorm report fill', () => {
  it('refuses an ambiguous document with exit 2, naming the tables, and changes nothing', async () => {
    const file = path.join(dir, 'two.md');
    const text = `## Before\n\n${TABLE}\n## After tuning\n\n${TABLE}`;
    fs.writeFileSync(file, text);
    const r = await fill(file);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/line 3 \(under "Before"\); line 9 \(under "After tuning"\)/);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  }, 70_000);

  it('--append adds the missing results table under the marker; without it, exit 2', async () => {
    const file = path.join(dir, 'none.md');
    fs.writeFileSync(file, '# Our plan\n');
    const refused = await fill(file);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--append');
    const r = await fill(file, '--append');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^# Our plan\n\n## Load test results \(ClawStorm\)\n\n<!-- clawstorm:results -->\n\| Scenario \| P50 \|/);
    const again = await fill(file);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('already up to date');
  }, 70_000);
});
