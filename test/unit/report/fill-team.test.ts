// The team's document is the team's: reproductions of what `report fill` used to destroy, each
// filled from the committed smoke run (reports/examples/smoke-local/results.json).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillFile, fillTemplate, TemplateFillError } from '../../../src/report/fill.ts';
import { readResults } from '../../../src/report/results.ts';

const SMOKE = path.resolve(import.meta.dirname, '../../../reports/examples/smoke-local/results.json');
const run = readResults(SMOKE);

const RESULTS = `| Scenario | P50 | P95 | P99 | Error Rate | Status |
|---|---|---|---|---|---|
| Briefing Generation | -- | -- | -- | -- | Not run |
| Policy Evaluation | -- | -- | -- | -- | Not run |
| Audit Write | -- | -- | -- | -- | Not run |
| Token Rotation Drill | n/a | n/a | n/a | 0% | Pass (manual, 2024-05-01) |
| Connector Burst | -- | -- | -- | -- | Not run |
| Mixed Workload | -- | -- | -- | -- | Not run |
`;

describe('report fill keeps what the team wrote', () => {
  it('a team row in the results table stays where it is, byte for byte', () => {
    const doc = `# Plan\n\n${RESULTS}\nAfter the table.\n`;
    const { text } = fillTemplate(doc, run, { tables: ['results'] });
    const lines = text.split('\n');
    const at = lines.indexOf('| Token Rotation Drill | n/a | n/a | n/a | 0% | Pass (manual, 2024-05-01) |');
    expect(at, `the team's row was removed:\n${text}`).toBeGreaterThan(0);
    expect(lines[at - 1]).toMatch(/^\| Audit Write \| 25\.6 ms \|/);
    expect(lines[at + 1]).toMatch(/^\| Connector Burst \| 1\.44 s \|/);
    expect(fillTemplate(text, run, { tables: ['results'] }).text).toBe(text);
  });

  it('a metrics table with an Owner column keeps its owners; Observed and Status are added beside them', () => {
    const doc = [
      '## Application Metrics',
      '| Metric | Target | Alert Threshold | Owner |',
      '|---|---|---|---|',
      '| Request throughput (req/s) | > 1,000 | < 500 sustained | @platform |',
      '| P95 response time | < 5s | > 10s sustained | @sre-oncall |',
      '| Queue wait | < 1s | > 5s sustained | @queues |',
      '',
    ].join('\n');
    const { text } = fillTemplate(doc, run, { tables: ['metrics'] });
    expect(text).toContain('| Metric | Target | Alert Threshold | Owner | Observed | Status |');
    expect(text).toContain('| P95 response time | < 5s | > 10s sustained | @sre-oncall | 113 ms | Pass |');
    expect(text).toContain('| Request throughput (req/s) | > 1,000 | < 500 sustained | @platform | 81.27 req/s (alert fired) | Fail (not gating) |');
    // A row the run does not have keeps its cells; the new columns say nothing was measured.
    expect(text).toContain('| Queue wait | < 1s | > 5s sustained | @queues | -- | Not run |');
    expect(fillTemplate(text, run, { tables: ['metrics'] }).text).toBe(text);
  });

  it('with a second, hand-kept results table ("After tuning"), only the plan’s table is filled', () => {
    const tuned = RESULTS.replace('| Briefing Generation | -- | -- | -- | -- | Not run |', '| Briefing Generation | 700 ms | 1.9 s | 2.1 s | 0.00% | Pass |');
    const doc = `## Load Test Results Template\n\n${RESULTS}\n## After tuning\n\n${tuned}`;
    const { text } = fillTemplate(doc, run, { tables: ['results'] });
    expect(text.endsWith(`## After tuning\n\n${tuned}`), `the hand-kept table was overwritten:\n${text}`).toBe(true);
    expect(text).toMatch(/## Load Test Results Template\n\n\| Scenario .*\n.*\n\| Briefing Generation \| 998 ms \|/);
  });

  it('the marker picks the table; an ambiguous document is refused naming its tables, nothing changed', () => {
    const two = `## Run A\n\n${RESULTS}\n## Run B\n\n${RESULTS}`;
    let err: unknown;
    try {
      fillTemplate(two, run, { tables: ['results'], file: 'plan.md' });
    } catch (e) {
      err = e;
    }
    expect(err, 'an ambiguous document was filled').toBeInstanceOf(TemplateFillError);
    expect((err as TemplateFillError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/plan\.md: .*line 3 \(under "Run A"\).*line 14 \(under "Run B"\).*<!-- clawstorm:results -->/);
    const marked = two.replace('## Run B\n\n', '## Run B\n\n<!-- clawstorm:results -->\n');
    const { text } = fillTemplate(marked, run, { tables: ['results'] });
    expect(text.startsWith(`## Run A\n\n${RESULTS}`)).toBe(true);
    expect(text).toMatch(/<!-- clawstorm:results -->\n\| Scenario .*\n.*\n\| Briefing Generation \| 998 ms \|/);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-fill-team-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('filling through a symlink writes the real file and leaves the link a link (mode kept)', () => {
    const real = path.join(dir, 'docs-plan.md');
    const link = path.join(dir, 'plan.md');
    fs.writeFileSync(real, `# Plan\n\n${RESULTS}`);
    fs.chmodSync(real, 0o640);
    fs.symlinkSync('docs-plan.md', link);
    expect(fillFile(link, run, { tables: ['results'] }).changed).toBe(true);
    expect(fs.lstatSync(link).isSymbolicLink(), 'the link was replaced by a regular file').toBe(true);
    expect(fs.readFileSync(real, 'utf8')).toContain('| Policy Evaluation | 9.89 ms | 54.7 ms | 109 ms | 0.00% | Pass |');
    expect(fs.statSync(real).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir).sort()).toEqual(['docs-plan.md', 'plan.md']);
  });

  it('a missing table names an option that exists (--append) in plain words', () => {
    let msg = '';
    try {
      fillTemplate('# Nothing here\n', run, { tables: ['results'], file: 'plan.md' });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^plan\.md: no results table/);
    expect(msg).not.toMatch(/no the |the append option/);
    expect(msg).toContain('--append');
  });

  it('the two-column "Metrics to Collect" table of the load-test plan is filled', () => {
    const doc = [
      '## Metrics to Collect',
      '',
      '| Metric | Target |',
      '|--------|--------|',
      '| Request throughput (req/s) | > 1000 |',
      '| P50 response time | < 500ms |',
      '| CPU utilization (gateway) | < 80% |',
      '| Audit entry completeness | 100% |',
      '',
    ].join('\n');
    const { text, filled } = fillTemplate(doc, run, { tables: ['metrics'] });
    expect(filled.metrics).toBe(1);
    expect(text).toContain('| Metric | Target | Observed | Status |');
    expect(text).toContain('| P50 response time | < 500ms | 17.7 ms | Pass |');
    // Same row as the profile's "Gateway CPU utilization", whatever the word order.
    expect(text).toContain('| CPU utilization (gateway) | < 80% | 6.04% | Pass |');
    expect(text).toContain('| Audit entry completeness | 100% | 100.00% | Pass |');
  });

  it('a not-gating row reads "Fail (not gating)" in the team’s document, as in results.md', () => {
    const doc = '| Metric | Target |\n|---|---|\n| Request throughput (req/s) | > 1000 |\n';
    const { text } = fillTemplate(doc, run, { tables: ['metrics'] });
    expect(text).toContain('| Request throughput (req/s) | > 1000 | 81.27 req/s (alert fired) | Fail (not gating) |');
    expect(text).not.toMatch(/\| Fail \|/);
  });

  it('the Audit Write row says which P95 its Pass was judged on', () => {
    const { text } = fillTemplate(`# Plan\n\n${RESULTS}`, run, { tables: ['results'] });
    const row = text.split('\n').find((l) => l.startsWith('| Audit Write |'))!;
    // The plan's "P95 write < 50 ms" was judged on the gateway's audit-write histogram (18.0 ms),
    // not on the client's 63.7 ms: the cell shows both and marks the judged one.
    expect(row).toBe('| Audit Write | 25.6 ms | 63.7 ms client · 18.0 ms server (judged) | 87.0 ms | 0.00% | Pass |');
    // Where the client figure was judged (policy evaluation has a client P95 threshold), it stands alone.
    expect(text).toContain('| Policy Evaluation | 9.89 ms | 54.7 ms | 109 ms | 0.00% | Pass |');
  });
});
