// The committed example reports stay readable by the code that reads results (report fill,
// baselines): every results.json under reports/examples validates against today's schema, and
// results.md, junit.xml and report.html beside it are exactly what today's renderers make of it
// (after a renderer change: node_modules/.bin/node scripts/render-examples.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../../src/report/html.ts';
import { renderJUnit } from '../../../src/report/junit.ts';
import { renderMarkdown } from '../../../src/report/markdown.ts';
import { ResultsSchema } from '../../../src/report/results.ts';
import { redactDeep } from '../../../src/util/redact.ts';
import { EVENTS_FILE, readEventLines } from '../../../src/events/ndjson.ts';

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

  it.each(files.map((f) => [path.relative(ROOT, f)]))('%s: results.md, junit.xml and report.html are today’s rendering of it', (rel) => {
    const dir = path.dirname(path.join(ROOT, rel));
    const r = redactDeep(ResultsSchema.parse(JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'))));
    const stale = 'stale: run node_modules/.bin/node scripts/render-examples.ts';
    expect(fs.readFileSync(path.join(dir, 'results.md'), 'utf8'), stale).toBe(renderMarkdown(r));
    expect(fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8'), stale).toBe(renderJUnit(r));
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8'), stale).toBe(renderHtml(r, readEventLines(path.join(dir, EVENTS_FILE))?.lines));
  });
});
