import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMs, formatPct, formatValue } from '../../../src/report/format.ts';
import { renderHtml } from '../../../src/report/html.ts';
import { renderJUnit } from '../../../src/report/junit.ts';
import { renderMarkdown, renderResultsTable } from '../../../src/report/markdown.ts';
import { baselineLookup, parseResults, readResults, serializeResults, type Results } from '../../../src/report/results.ts';
import { writeReports } from '../../../src/report/write.ts';
import { clearSecrets, redactDeep, registerSecret } from '../../../src/util/redact.ts';
import { sampleResults } from './fixtures.ts';

const results = (): Results => parseResults(sampleResults());
afterEach(() => clearSecrets());

describe('formatting', () => {
  it('latency with units, error rate as %, thresholds without trailing zeros', () => {
    expect([formatMs(0.42), formatMs(4.214), formatMs(42.14), formatMs(421.4), formatMs(4214), formatMs(42_140), formatMs(null)]).toEqual(['0.420 ms', '4.21 ms', '42.1 ms', '421 ms', '4.21 s', '42.1 s', '--']);
    expect([formatPct(0), formatPct(0.0004), formatPct(0.0000001), formatPct(0.9999999), formatPct(1), formatPct(0.001, { trim: true })]).toEqual(['0.00%', '0.04%', '<0.01%', '>99.99%', '100.00%', '0.1%']);
    expect([formatValue(5, 's', { trim: true }), formatValue(0.5, 's', { trim: true }), formatValue(1000, 'req/s'), formatValue(Infinity, 's')]).toEqual(['5 s', '500 ms', '1,000 req/s', '+Inf']);
  });
});

describe('results.json', () => {
  it('round-trips, ±Infinity included (as "+Inf"), and rejects a bad shape naming the field', () => {
    const text = serializeResults(sampleResults());
    expect(text).toContain('"observed": "+Inf"');
    const back = parseResults(JSON.parse(text));
    expect(back.thresholds[0]!.observed).toBe(Infinity);
    expect(() => parseResults({ ...sampleResults(), exitCode: 7 }, 'r.json')).toThrow(/^r\.json: exitCode:/);
    expect(() => parseResults({ ...sampleResults(), scenarios: [{ name: 'x' }] }, 'r.json')).toThrow(/r\.json: scenarios\.0\.title/);
  });

  it('a baseline lookup finds the same threshold by name, null when absent', () => {
    const r = results();
    expect(baselineLookup(r, 'policy-evaluation')('policy p95')).toBe(120.5);
    expect(baselineLookup(r)('gateway 5xx')).toBe(Infinity);
    expect(baselineLookup(r, 'audit-write')('missing audit ids')).toBeNull();
    expect(baselineLookup(r)('nope')).toBeNull();
  });
});

describe('results.md', () => {
  it('carries the plan §6 table exactly, the metrics table and the thresholds', () => {
    const md = renderMarkdown(results());
    expect(renderResultsTable({ scenarios: [] })).toEqual([
      '| Scenario | P50 | P95 | P99 | Error Rate | Status |',
      '|---|---|---|---|---|---|',
      '| Briefing Generation | -- | -- | -- | -- | Not run |',
      '| Policy Evaluation | -- | -- | -- | -- | Not run |',
      '| Audit Write | -- | -- | -- | -- | Not run |',
      '| Connector Burst | -- | -- | -- | -- | Not run |',
      '| Mixed Workload | -- | -- | -- | -- | Not run |',
    ]);
    expect(md).toContain('| Policy Evaluation | 42.1 ms | 121 ms | 480 ms | 0.04% | Fail |');
    expect(md).toContain('| application | P95 response time | < 5 s | > 10 s sustained | 123 ms | Pass |');
    expect(md).toContain('| infrastructure | Gateway CPU utilization | < 70% | > 85% for 5m | -- | No data |');
    expect(md).toContain('- **Fail** Policy Evaluation · policy p95: `p(95)<100ms` — observed 121 ms.');
    expect(md).toContain('- **Not run** Mixed Workload · mixed p95');
    expect(md).toContain('observed +Inf');
  });
});

describe('junit.xml', () => {
  const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml);

  it('is well-formed XML with one testcase per threshold and per metric row', () => {
    const r = results();
    const xml = renderJUnit(r);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parse(xml);
    const cases = doc.testsuites.testsuite.flatMap((s: { testcase?: unknown[] }) => s.testcase ?? []);
    const expected = r.scenarios.reduce((n, s) => n + s.thresholds.length, 0) + r.drills.reduce((n, d) => n + d.thresholds.length, 0) + r.thresholds.length + r.metrics.length;
    expect(cases).toHaveLength(expected);
    expect(Number(doc.testsuites.tests)).toBe(expected);
  });

  it('fail and no data are failures (no data fails closed), not-run thresholds are skipped', () => {
    const doc = parse(renderJUnit(results()));
    const suite = (name: string) => doc.testsuites.testsuite.find((s: { name: string }) => s.name === name);
    const policy = suite('Policy Evaluation').testcase;
    expect(policy[0].failure.type).toBe('fail');
    expect(policy[1].failure).toBeUndefined();
    expect(policy[1].skipped).toBeUndefined();
    expect(suite('Audit Write').testcase[0].failure.type).toBe('no_data');
    expect(suite('Mixed Workload').testcase[0].skipped.message).toBe('Not run');
    expect(suite('Metrics to monitor').testcase.map((c: { failure?: { type: string } }) => c.failure?.type ?? 'pass')).toEqual(['fail', 'pass', 'pass', 'no_data']);
    expect(Number(doc.testsuites.failures)).toBe(5);
    expect(Number(doc.testsuites.skipped)).toBe(1);
  });

  it('escapes markup and strips characters XML forbids', () => {
    const r = results();
    r.scenarios[0]!.thresholds[0]!.detail = 'a <b> & "c" \u0001 ]]>';
    const xml = renderJUnit(r);
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(parse(xml).testsuites.testsuite[0].testcase[0].failure.message).toContain('a <b> & "c"');
  });

  it('inconclusive is a failure of its own type with its reason; the renderer does not re-judge saturation', () => {
    const r = results();
    r.scenarios[0]!.thresholds[1] = { ...r.scenarios[0]!.thresholds[1]!, verdict: 'inconclusive', detail: 'load generator saturated (measured pass): p99 ok' };
    r.generator = { saturated: true, reasons: ['event loop p99 120 ms'], figures: {} };
    const doc = parse(renderJUnit(r));
    expect(doc.testsuites.testsuite[0].testcase[1].failure.type).toBe('inconclusive');
    expect(doc.testsuites.testsuite[0].testcase[1].failure.message).toMatch(/^Inconclusive: load generator saturated/);
  });
});

describe('report.html', () => {
  it('is self-contained: inline SVG charts, no scripts, no external assets', () => {
    const html = renderHtml(results());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(4); // percentile + latency + requests + drill timeline
    expect(html).toContain('aria-label="Policy Evaluation: latency over time"');
    expect(html).toContain('<polyline');
    expect(html).toContain('latency by percentile');
    expect(html).toContain('SIGKILL gw-a1');
    expect(html).toContain('ok &lt;&amp;&gt; &quot;quoted&quot;');
  });
});

describe('redaction in every report', () => {
  it('no registered secret reaches results.json, results.md, junit.xml or report.html', () => {
    const secret = 'tok-9f8e7d6c5b4a';
    registerSecret(secret);
    const input = sampleResults();
    input.target = `staging (${secret})`;
    input.scenarios[0]!.thresholds![0]!.detail = `Authorization: Bearer ${secret}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-reports-'));
    const out = writeReports(dir, input);
    for (const f of [out.json, out.markdown, out.junit, out.html]) {
      const text = fs.readFileSync(f, 'utf8');
      expect(text, f).not.toContain(secret);
      expect(text, f).toContain('***');
    }
    expect(readResults(out.json).target).toBe('staging (***)');
    expect(redactDeep({ [secret]: [secret, 1] })).toEqual({ '***': ['***', 1] });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
