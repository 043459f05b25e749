import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillFile, fillTemplate, TemplateFillError } from '../../../src/report/fill.ts';
import { parseResults } from '../../../src/report/results.ts';
import { sampleResults } from './fixtures.ts';

const results = parseResults(sampleResults());

const TEMPLATE = `# Load Test Plan

Some intro text with a | pipe that is not a table.

Load Test Results Template
Results will be recorded after execution:

| Scenario | P50 | P95 | P99 | Error Rate | Status |
|---|---|---|---|---|---|
| Briefing Generation | -- | -- | -- | -- | Not run |
| Policy Evaluation | -- | -- | -- | -- | Not run |
| Audit Write | -- | -- | -- | -- | Not run |
| Connector Burst | -- | -- | -- | -- | Not run |
| Mixed Workload | -- | -- | -- | -- | Not run |
Scaling Recommendations

\`\`\`markdown
| Scenario | P50 | P95 | P99 | Error Rate | Status |
|---|---|---|---|---|---|
| quoted in a code block | stays | as | is | -- | Not run |
\`\`\`

## Application Metrics
| Metric | Target | Alert Threshold |
|---|---|---|
| Request throughput (req/s) | > 1,000 | < 500 sustained |
| P95 response time | < 5s | > 10s sustained |
| Error rate | < 0.1% | > 1% sustained |
| DB disk usage | < 80% of provisioned | > 85% of provisioned |

Trailing words after the tables.
`;

const FILLED_RESULTS = `| Scenario | P50 | P95 | P99 | Error Rate | Status |
|---|---|---|---|---|---|
| Briefing Generation | -- | -- | -- | -- | Not run |
| Policy Evaluation | 42.1 ms | 121 ms | 480 ms | 0.04% | Fail |
| Audit Write | 3.20 ms | 12.0 ms | 30.0 ms | 0.00% | No data |
| Connector Burst | -- | -- | -- | -- | Not run |
| Mixed Workload | -- | -- | -- | -- | Not run |
`;

describe('fillTemplate', () => {
  it('fills the results table exactly (plan §6 layout) and the per-group metrics table', () => {
    const { text, filled } = fillTemplate(TEMPLATE, results);
    expect(filled).toEqual({ results: 1, metrics: 1 });
    expect(text).toContain(FILLED_RESULTS);
    expect(text).toContain('| Metric | Target | Alert Threshold | Observed | Status |\n| --- | --- | --- | --- | --- |\n| Request throughput (req/s) | > 1,000 | < 500 sustained | 812.35 req/s | Fail |');
    expect(text).toContain('| Error rate | < 0.1% | > 1% sustained | 0.02% | Pass |');
    expect(text).toContain('| DB disk usage | < 80% of provisioned | > 85% of provisioned | -- | Not run |');
  });

  it('touches no byte outside the tables, and code blocks are not tables', () => {
    const { text } = fillTemplate(TEMPLATE, results);
    const before = TEMPLATE.split('| Scenario |')[0]!;
    expect(text.startsWith(before)).toBe(true);
    const block = TEMPLATE.slice(TEMPLATE.indexOf('Scaling Recommendations'), TEMPLATE.indexOf('| Metric |'));
    expect(text).toContain(block);
    expect(text.endsWith('\n\nTrailing words after the tables.\n')).toBe(true);
    // Everything but the table lines is byte-identical.
    const strip = (s: string) => s.split('\n').filter((l) => !/^\| (Scenario|Briefing|Policy|Audit|Connector|Mixed|Metric|Request|P95|Error|DB)|^\|( ?---)/.test(l)).join('\n');
    expect(strip(text)).toBe(strip(TEMPLATE));
  });

  it('is idempotent: filling twice gives one table and byte-identical output', () => {
    const once = fillTemplate(TEMPLATE, results).text;
    const twice = fillTemplate(once, results).text;
    expect(twice).toBe(once);
    expect(twice.split('| Scenario | P50').length - 1).toBe(2); // the real table + the quoted one in the code block
    expect(twice.split('| Metric | Target').length - 1).toBe(1);
  });

  it('keeps CRLF line endings and a missing trailing newline', () => {
    const crlf = TEMPLATE.replace(/\n/g, '\r\n').replace(/\r\n$/, '');
    const { text } = fillTemplate(crlf, results);
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text.endsWith('Trailing words after the tables.')).toBe(true);
    expect(text).toContain(FILLED_RESULTS.replace(/\n/g, '\r\n'));
    expect(fillTemplate(text, results).text).toBe(text);
    expect(text.replace(/\r\n/g, '\n')).toBe(fillTemplate(TEMPLATE, results).text.replace(/\n$/, ''));
  });

  it('a table at the very end of a file without newline keeps it that way', () => {
    const t = TEMPLATE.slice(0, TEMPLATE.indexOf('Scaling')) .replace(/\n$/, '');
    const { text } = fillTemplate(t, results, { tables: ['results'] });
    expect(text.endsWith('| Mixed Workload | -- | -- | -- | -- | Not run |')).toBe(true);
  });

  it('fills a combined §3 metrics table (Group | Metric | Target | Alert threshold): the team’s cells stay, rows it lacks are added', () => {
    const doc = 'Intro\n\n| group | metric | target | alert threshold |\n|---|---|---|---|\n| application | request throughput | > 1,000 req/s | < 500 sustained |\n\nEnd\n';
    const { text } = fillTemplate(doc, results, { tables: ['metrics'] });
    expect(text).toContain('| group | metric | target | alert threshold | Observed | Status |');
    expect(text).toContain('| application | request throughput | > 1,000 req/s | < 500 sustained | 812.35 req/s | Fail |');
    expect(text).toContain('| infrastructure | Gateway CPU utilization | < 70% | > 85% for 5m | -- | No data |');
    expect(text.startsWith('Intro\n\n')).toBe(true);
    expect(text.endsWith('\n\nEnd\n')).toBe(true);
    expect(fillTemplate(text, results, { tables: ['metrics'] }).text).toBe(text);
  });

  it('a missing table is an error naming the header, and nothing is appended silently', () => {
    expect(() => fillTemplate('# Nothing here\n', results, { file: 'plan.md' })).toThrow(TemplateFillError);
    expect(() => fillTemplate('# Nothing here\n', results, { file: 'plan.md', tables: ['results'] })).toThrow(/^plan\.md: no results table \(a header with the columns Scenario, P50, P95, P99, Error Rate and Status\) outside code blocks; nothing was changed/);
    // A table only inside a code block does not count.
    expect(() => fillTemplate('```\n| Scenario | P50 | P95 | P99 | Error Rate | Status |\n|---|---|---|---|---|---|\n```\n', results, { tables: ['results'] })).toThrow(TemplateFillError);
  });

  it('appends under a clear heading and the marker only when asked (--append), and then stays idempotent', () => {
    const { text, appended } = fillTemplate('# Plan\r\n\r\nNo table yet.', results, { append: true, tables: ['results'] });
    expect(appended).toEqual(['results']);
    expect(text.startsWith('# Plan\r\n\r\nNo table yet.\r\n\r\n## Load test results (ClawStorm)\r\n\r\n<!-- clawstorm:results -->\r\n| Scenario | P50 |')).toBe(true);
    expect(fillTemplate(text, results, { append: true, tables: ['results'] }).text).toBe(text);
    expect(fillTemplate(text, results, { tables: ['results'] }).text).toBe(text);
  });
});

describe('fillFile', () => {
  it('rewrites in place, keeps the mode, and does not touch an unchanged file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-fill-'));
    const file = path.join(dir, 'plan.md');
    fs.writeFileSync(file, TEMPLATE, { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    expect(fillFile(file, results).changed).toBe(true);
    const once = fs.readFileSync(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    const mtime = fs.statSync(file).mtimeMs;
    expect(fillFile(file, results).changed).toBe(false);
    expect(fs.readFileSync(file).equals(once)).toBe(true);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(dir)).toEqual(['plan.md']);
    expect(() => fillFile(path.join(dir, 'absent.md'), results)).toThrow(/absent\.md: cannot read the template \(ENOENT\)/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
