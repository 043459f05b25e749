// Render the committed example reports again from their results.json, with today's renderers:
// results.md, junit.xml and report.html of every run under reports/examples (results.json is
// the record of the run and is not rewritten). test/unit/report/examples.test.ts fails when a
// committed example differs from what this would write.
//
//   node_modules/.bin/node scripts/render-examples.ts
import fs from 'node:fs';
import path from 'node:path';
import { readResults } from '../src/report/results.ts';
import { renderReports } from '../src/report/write.ts';
import { redactDeep } from '../src/util/redact.ts';
import { writeTrends } from '../src/history/trends.ts';

const ROOT = path.resolve(import.meta.dirname, '../reports/examples');

export function exampleResultFiles(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return exampleResultFiles(p);
    return e.name === 'results.json' ? [p] : [];
  });
}

/** Example run histories: every index.json under reports/examples (its trends.html and trends.md sit beside it). */
export function exampleRunIndexes(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return exampleRunIndexes(p);
    return e.name === 'index.json' ? [p] : [];
  });
}

if (import.meta.main) {
  for (const file of exampleResultFiles()) {
    renderReports(path.dirname(file), redactDeep(readResults(file)));
    process.stdout.write(`${path.relative(process.cwd(), path.dirname(file))}: results.md, junit.xml, report.html\n`);
  }
  for (const index of exampleRunIndexes()) {
    writeTrends(index, path.dirname(index));
    process.stdout.write(`${path.relative(process.cwd(), path.dirname(index))}: trends.html, trends.md\n`);
  }
}
