// Write every report format of a run into one directory. results.json is validated first and
// every format is rendered from the validated (and redacted) object, so they cannot disagree.
import path from 'node:path';
import { renderHtml } from './html.ts';
import { renderJUnit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { repairResults } from './repair.ts';
import { parseResults, serializeResults, type Results, type ResultsInput } from './results.ts';
import { redactDeep } from '../util/redact.ts';
import { EVENTS_FILE, readEventLines } from '../events/ndjson.ts';

export interface WrittenReports {
  json: string;
  markdown: string;
  junit: string;
  html: string;
  /** What was written: the validated results (repaired if they had to be; see `problems`). */
  results: Results;
  /** Fields the validation rejected and that were repaired before writing. */
  problems: string[];
}

export function writeReports(dir: string, input: ResultsInput): WrittenReports {
  const { results: checked, problems } = repairResults(input);
  const json = serializeResults(checked);
  const results = redactDeep(parseResults(JSON.parse(json), 'results.json'));
  const out: WrittenReports = {
    json: path.join(dir, 'results.json'),
    markdown: path.join(dir, 'results.md'),
    junit: path.join(dir, 'junit.xml'),
    html: path.join(dir, 'report.html'),
    results,
    problems,
  };
  writeFileAtomic(out.json, json);
  renderReports(dir, results);
  return out;
}

/** results.md, junit.xml and report.html of validated results, into `dir` (results.json is not touched). */
export function renderReports(dir: string, results: Results): void {
  writeFileAtomic(path.join(dir, 'results.md'), renderMarkdown(results));
  writeFileAtomic(path.join(dir, 'junit.xml'), renderJUnit(results));
  writeFileAtomic(path.join(dir, 'report.html'), renderHtml(results, readEventLines(path.join(dir, EVENTS_FILE))?.lines));
}
