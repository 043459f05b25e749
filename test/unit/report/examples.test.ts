// The committed example reports stay readable by the code that reads results (report fill,
// baselines): every results.json under reports/examples validates against today's schema, and
// its Markdown twin names every drill and scenario it holds.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultsSchema } from '../../../src/report/results.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../reports/examples');

function resultFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return resultFiles(p);
    return e.name === 'results.json' ? [p] : [];
  });
}

const files = resultFiles(ROOT);

describe('committed example reports', () => {
  it('exist for the local smoke gate and for real OpenClaw gateways', () => {
    expect(files.some((f) => f.includes(`${path.sep}smoke-local${path.sep}`))).toBe(true);
    expect(files.filter((f) => f.includes(`${path.sep}openclaw${path.sep}`)).length).toBeGreaterThanOrEqual(5);
  });

  it.each(files.map((f) => [path.relative(ROOT, f)]))('%s validates and matches its results.md', (rel) => {
    const file = path.join(ROOT, rel);
    const r = ResultsSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    const md = fs.readFileSync(path.join(path.dirname(file), 'results.md'), 'utf8');
    for (const d of r.drills) expect(md).toContain(d.title);
    for (const s of r.scenarios.filter((x) => x.status !== 'Not run')) expect(md).toContain(s.title);
  });
});
