// Write every report format of a run into one directory. results.json is validated first and
// every format is rendered from the validated (and redacted) object, so they cannot disagree.
import path from 'node:path';
import { renderHtml } from './html.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { parseResults, serializeResults, type ResultsInput } from './results.ts';
import { redactDeep } from '../util/redact.ts';

export interface WrittenReports {
  json: string;
  markdown: string;
  junit: string;
  html: string;
}

export function writeReports(dir: string, input: ResultsInput): WrittenReports {
  const json = serializeResults(input);
  const results = redactDeep(parseResults(JSON.parse(json), 'results.json'));
  const out: WrittenReports = {
    json: path.join(dir, 'results.json'),
    markdown: path.join(dir, 'results.md'),
    junit: path.join(dir, 'junit.xml'),
    html: path.join(dir, 'report.html'),
  };
  writeFileAtomic(out.json, json);
  writeFileAtomic(out.markdown, renderMarkdown(results));
  writeFileAtomic(out.junit, renderJUnit(results));
  writeFileAtomic(out.html, renderHtml(results));
  return out;
}
