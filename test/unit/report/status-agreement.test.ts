// One verdict, one word, in every format: one results object with every kind of status is
// rendered through results.md, junit.xml, report.html, the filled template and the console
// lines; each item's status is read back out of each format and must be the same text.
//
// The object is deliberately one a re-deriving renderer would get wrong: the generator is marked
// saturated, yet a scenario's client-side thresholds passed (the source decided they stand). A
// renderer that turned them into "Inconclusive" from `generator.saturated` would disagree here.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { drillLine, metricLine, scenarioLine, thresholdLine } from '../../../src/report/console.ts';
import { fillTemplate } from '../../../src/report/fill.ts';
import { renderHtml } from '../../../src/report/html.ts';
import { renderJUnit } from '../../../src/report/junit.ts';
import { renderMarkdown, renderResultsTable } from '../../../src/report/markdown.ts';
import { parseResults, type ResultsInput } from '../../../src/report/results.ts';

const th = (name: string, verdict: 'pass' | 'fail' | 'inconclusive' | 'no_data', source: 'client' | 'promql' = 'client') => ({
  name,
  source,
  expr: source === 'client' ? 'p(95)<100ms' : 'q < 1',
  observed: verdict === 'no_data' ? null : 42,
  unit: 'ms',
  verdict,
  detail: verdict === 'inconclusive' ? 'load generator saturated (measured pass): p(95) = 42 ms' : `${name}: detail`,
});

const scen = (name: string, title: string, status: 'Pass' | 'Fail' | 'Inconclusive' | 'No data' | 'Not run', thresholds: ReturnType<typeof th>[], reasons: string[] = []) => ({
  name,
  title,
  status,
  p50: status === 'Not run' ? null : 10,
  p95: status === 'Not run' ? null : 20,
  p99: status === 'Not run' ? null : 30,
  errorRate: status === 'Not run' ? null : 0,
  requests: status === 'Not run' ? 0 : 100,
  errors: 0,
  dropped: 0,
  thresholds,
  reasons,
});

const metric = (metricName: string, verdict: 'pass' | 'fail' | 'no_data', gate: boolean) => ({
  group: 'application',
  metric: metricName,
  query: 'q',
  unit: 'ratio',
  target: { op: '<', value: 0.5 },
  alert: { op: '>', value: 0.9 },
  gate,
  observed: verdict === 'no_data' ? null : 0.1,
  alerting: verdict === 'no_data' ? null : false,
  verdict,
  detail: `${metricName}: detail`,
});

const SATURATED = 'load generator saturated: 1 client-side result(s) not trusted';

const input: ResultsInput = {
  schema: 'clawstorm.results/v1',
  runId: 'agreement',
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:10:00.000Z',
  profile: 'smoke',
  target: 'local',
  verdict: 'fail',
  exitCode: 1,
  aborted: false,
  reasons: ['1 threshold(s) failed'],
  scenarios: [
    scen('briefing-generation', 'Briefing Generation', 'Pass', [th('briefing p95', 'pass'), th('briefing server', 'pass', 'promql')]),
    scen('policy-evaluation', 'Policy Evaluation', 'Fail', [th('policy p95', 'fail'), th('policy sidecar', 'no_data', 'promql')], ['1 threshold(s) failed']),
    scen('audit-write', 'Audit Write', 'Inconclusive', [th('audit p95', 'inconclusive')], [SATURATED]),
    scen('connector-burst', 'Connector Burst', 'No data', [th('connector 5xx', 'no_data', 'promql')], ['1 threshold(s) had no data']),
    scen('mixed-workload', 'Mixed Workload', 'Not run', [th('mixed p95', 'no_data')]),
  ],
  thresholds: [th('gateway 5xx', 'fail', 'promql')],
  metrics: [metric('Gated pass', 'pass', true), metric('Gated fail', 'fail', true), metric('Gated no data', 'no_data', true), metric('Not gating fail', 'fail', false), metric('Not gating pass', 'pass', false)],
  generator: { saturated: true, reasons: ['event loop lag p99 120 ms'], figures: {} },
  drills: [
    { name: 'paired-gateway', title: 'Paired gateway drill', status: 'Pass', events: [{ t: 1, label: 'SIGKILL gw-1', kind: 'fault' }], thresholds: [th('webhooks lost', 'pass', 'promql')] },
    { name: 'token-rotation', title: 'Token rotation drill', status: 'Inconclusive', reasons: [SATURATED], thresholds: [th('rotation p95', 'inconclusive')] },
  ],
};
const results = parseResults(input);

type Statuses = Map<string, string>;

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const strip = (s: string) => unescape(s.replace(/<[^>]*>/g, '')).trim();

function mdTableRows(md: string, header: string): string[][] {
  const lines = md.split('\n');
  const at = lines.findIndex((l) => l.startsWith(header));
  expect(at, `no table "${header}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(lines[i]!.slice(2, -2).split(' | '));
  return rows;
}

function htmlTableRows(html: string, firstHeader: string): string[][] {
  const table = html.split('<table').find((t) => t.includes(`<th>${firstHeader}</th>`));
  expect(table, `no table headed ${firstHeader}`).toBeDefined();
  const body = table!.slice(table!.indexOf('<tbody>'), table!.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => strip(c[1]!)));
}

function fromMarkdown(): Statuses {
  const md = renderMarkdown(results);
  const out: Statuses = new Map();
  for (const r of mdTableRows(md, '| Scenario | P50 |')) out.set(`scenario ${r[0]}`, r[5]!);
  for (const r of mdTableRows(md, '| Group | Metric |')) out.set(`metric ${r[1]}`, r[5]!);
  for (const r of mdTableRows(md, '| Drill | Status |')) out.set(`drill ${r[0]}`, r[1]!);
  for (const m of md.matchAll(/^- \*\*(.+?)\*\* (.+?) · (.+?): `/gm)) out.set(`threshold ${m[2]} / ${m[3]}`, m[1]!);
  return out;
}

function fromHtml(): Statuses {
  const html = renderHtml(results);
  const out: Statuses = new Map();
  for (const r of htmlTableRows(html, 'Scenario')) out.set(`scenario ${r[0]}`, r[5]!);
  for (const r of htmlTableRows(html, 'Group')) out.set(`metric ${r[1]}`, r[5]!);
  for (const r of htmlTableRows(html, 'Scope')) out.set(`threshold ${r[0]} / ${r[1]}`, r[4]!);
  for (const m of html.matchAll(/<h3>(.+?) — <span class="[^"]*">(.+?)<\/span><\/h3>/g)) out.set(`drill ${strip(m[1]!)}`, strip(m[2]!));
  return out;
}

function fromJUnit(): Statuses {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase', 'property'].includes(n) }).parse(renderJUnit(results)) as {
    testsuites: { testsuite: Array<{ name: string; id: string; properties: { property: Array<{ name: string; value: string }> }; testcase?: Array<{ name: string; failure?: { message: string }; skipped?: { message: string } }> }> };
  };
  const out: Statuses = new Map();
  const word = (c: { failure?: { message: string }; skipped?: { message: string } }) => {
    const msg = c.failure?.message ?? c.skipped?.message;
    return msg === undefined ? 'Pass' : msg.split(': ')[0]!;
  };
  for (const s of doc.testsuites.testsuite) {
    const status = s.properties.property.find((p) => p.name === 'status')?.value;
    if (results.scenarios.some((x) => x.name === s.id)) out.set(`scenario ${s.name}`, status!);
    if (results.drills.some((x) => x.name === s.id)) out.set(`drill ${s.name}`, status!);
    for (const c of s.testcase ?? []) {
      if (s.id === 'metrics') out.set(`metric ${c.name.split(' / ')[1]}`, word(c));
      else out.set(`threshold ${s.id === 'run' ? 'run' : s.name} / ${c.name.split(': ')[0]}`, word(c));
    }
  }
  return out;
}

function fromFilledTemplate(): Statuses {
  // The plan's blank template (five "Not run" rows) and a combined metrics table.
  const doc = `${renderResultsTable({ scenarios: [] }).join('\n')}\n\n| Group | Metric | Target | Alert Threshold |\n|---|---|---|---|\n`;
  const { text } = fillTemplate(doc, results);
  const out: Statuses = new Map();
  for (const r of mdTableRows(text, '| Scenario | P50 |')) out.set(`scenario ${r[0]}`, r[5]!);
  for (const r of mdTableRows(text, '| Group | Metric |')) out.set(`metric ${r[1]}`, r[5]!);
  return out;
}

function fromConsole(): Statuses {
  const out: Statuses = new Map();
  const col = (line: string) => /^ {2}(Pass|Fail|Inconclusive|No data)( \(not gating\))?/.exec(line)!.slice(1).join('');
  for (const s of results.scenarios) {
    out.set(`scenario ${s.title}`, /^[^:]+: (.*?) — /.exec(scenarioLine(s))![1]!);
    if (s.status !== 'Not run') for (const t of s.thresholds) out.set(`threshold ${s.title} / ${t.name}`, col(thresholdLine(t)));
  }
  for (const d of results.drills) {
    out.set(`drill ${d.title}`, drillLine(d).slice(d.title.length + 2).split(' — ')[0]!);
    for (const t of d.thresholds) out.set(`threshold ${d.title} / ${t.name}`, col(thresholdLine(t)));
  }
  for (const t of results.thresholds) out.set(`threshold run / ${t.name}`, col(thresholdLine(t)));
  for (const m of results.metrics) out.set(`metric ${m.metric}`, col(metricLine(m)));
  return out;
}

describe('one status vocabulary across every format', () => {
  const formats: Record<string, Statuses> = {
    'results.md': fromMarkdown(),
    'report.html': fromHtml(),
    'junit.xml': fromJUnit(),
    'filled template': fromFilledTemplate(),
    console: fromConsole(),
  };
  const reference = formats['results.md']!;

  it('results.md shows every status of the object, each kind of status once at least', () => {
    expect(reference.get('scenario Briefing Generation')).toBe('Pass');
    expect(reference.get('scenario Policy Evaluation')).toBe('Fail');
    expect(reference.get('scenario Audit Write')).toBe(`Inconclusive (${SATURATED})`);
    expect(reference.get('scenario Connector Burst')).toBe('No data');
    expect(reference.get('scenario Mixed Workload')).toBe('Not run');
    expect(reference.get('threshold Mixed Workload / mixed p95')).toBe('Not run');
    expect(reference.get('metric Not gating fail')).toBe('Fail (not gating)');
    expect(reference.get('metric Not gating pass')).toBe('Pass (not gating)');
    expect(reference.get('drill Token rotation drill')).toBe(`Inconclusive (${SATURATED})`);
    expect(reference.get('threshold Briefing Generation / briefing p95')).toBe('Pass');
    expect(reference.get('threshold Audit Write / audit p95')).toBe('Inconclusive');
    expect(reference.get('threshold run / gateway 5xx')).toBe('Fail');
  });

  it.each(Object.keys(formats).filter((f) => f !== 'results.md'))('%s agrees with results.md on every item it shows', (name) => {
    const other = formats[name]!;
    expect(other.size, `${name} showed no statuses`).toBeGreaterThan(0);
    const disagree = [...other].filter(([k, v]) => reference.get(k) !== v).map(([k, v]) => `${k}: results.md "${reference.get(k)}" vs ${name} "${v}"`);
    expect(disagree, disagree.join('\n')).toEqual([]);
  });

  it('every format shows every scenario, metric row and drill (html and junit every threshold too)', () => {
    const kinds = (f: Statuses, prefix: string) => [...f.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const name of ['report.html', 'junit.xml', 'filled template', 'console']) {
      expect(kinds(formats[name]!, 'scenario'), name).toEqual(kinds(reference, 'scenario'));
      expect(kinds(formats[name]!, 'metric'), name).toEqual(kinds(reference, 'metric'));
    }
    for (const name of ['report.html', 'junit.xml', 'console']) expect(kinds(formats[name]!, 'drill'), name).toEqual(kinds(reference, 'drill'));
    for (const name of ['report.html', 'junit.xml']) expect(kinds(formats[name]!, 'threshold'), name).toEqual(kinds(reference, 'threshold'));
  });
});
