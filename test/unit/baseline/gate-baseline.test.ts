// What `gate --baseline` does with a comparison: the regressions become failed thresholds of
// their scenario (trusted as much as the scenario's own), the baseline section lands in
// results.json and every report format shows the evidence; `last-pass` finds the newest
// passing run of the same profile and target in the run index.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareRuns } from '../../../src/baseline/compare.ts';
import { comparisonSection, missingSection } from '../../../src/baseline/section.ts';
import { LAST_PASS, resolveBaseline } from '../../../src/baseline/source.ts';
import { withBaselineThresholds } from '../../../src/baseline/thresholds.ts';
import { BaselineRulesSchema } from '../../../src/baseline/rules.ts';
import { indexRun } from '../../../src/history/record.ts';
import { readIndex } from '../../../src/history/run-index.ts';
import { overallVerdict } from '../../../src/score/verdict.ts';
import { parseResults, ResultsError, type Results } from '../../../src/report/results.ts';
import { writeReports } from '../../../src/report/write.ts';
import { storedRun, writeRun } from './runs.ts';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-gate-baseline-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const judged = (base: Results, next: Results) => {
  const c = compareRuns(base, next);
  return { c, scenarios: withBaselineThresholds(next.scenarios, c) };
};

describe('baseline thresholds in the gate', () => {
  const base = parseResults(storedRun('base', 1));

  it('a regression is a failed client threshold of its scenario: the scenario fails, the run exits 1', () => {
    const next = parseResults(storedRun('next', 2, { shiftMs: 40 }));
    const { scenarios } = judged(base, next);
    const s = scenarios[0]!;
    expect(s.status).toBe('Fail');
    const t = s.thresholds.find((x) => x.name === 'baseline: latency p99')!;
    expect(t).toMatchObject({ verdict: 'fail', source: 'client', unit: 'ms' });
    expect(t.detail).toMatch(/judge finds latency significantly higher/);
    expect(s.reasons).toContain('1 regression(s) against baseline base');
    expect(overallVerdict({ thresholds: s.thresholds }).exitCode).toBe(1);
  });

  it('on a saturated host the latency regression is inconclusive, as every latency threshold is', () => {
    const next = parseResults(storedRun('next', 2, { shiftMs: 40 }));
    next.scenarios[0]!.reasons = ['host saturated (CPU 97%, steal 0%): this machine was busy, not necessarily the fleet slow'];
    next.scenarios[0]!.status = 'Inconclusive';
    const s = judged(base, next).scenarios[0]!;
    expect(s.thresholds.find((x) => x.name === 'baseline: latency p99')!.verdict).toBe('inconclusive');
    expect(s.status).toBe('Inconclusive');
  });

  it('a clean pair adds passing thresholds and leaves a Not run scenario alone', () => {
    const next = parseResults(storedRun('next', 2));
    next.scenarios.push({ ...next.scenarios[0]!, name: 'audit-write', title: 'Audit Write', status: 'Not run', thresholds: [] });
    const { scenarios } = judged(base, next);
    expect(scenarios[0]!.status).toBe('Pass');
    expect(scenarios[0]!.thresholds.map((t) => [t.name, t.verdict])).toEqual([
      ['baseline: latency p99', 'pass'],
      ['baseline: error rate', 'pass'],
    ]);
    expect(scenarios[1]!.thresholds).toEqual([]);
  });

  it('results.md, junit.xml and report.html carry the comparison and its evidence', () => {
    const next = parseResults(storedRun('next', 2, { shiftMs: 40 }));
    const { c, scenarios } = judged(base, next);
    const input = { ...next, verdict: 'fail' as const, exitCode: 1 as const, scenarios, baseline: comparisonSection(c, { requested: 'last-pass', file: '/runs/base/results.json', startedAt: base.startedAt }) };
    const w = writeReports(tmp, input);
    expect(w.problems).toEqual([]);
    expect(w.results.baseline?.runId).toBe('base');
    const md = fs.readFileSync(w.markdown, 'utf8');
    expect(md).toMatch(/## Baseline comparison/);
    expect(md).toMatch(/\| Policy Evaluation \| latency p99 \| [\d.]+ ms \| [\d.]+ ms \| \+[\d.]+ % \| High \| Fail \|/);
    expect(md).toMatch(/- Policy Evaluation · latency p99: Fail — .*Evidence: Mann–Whitney p/);
    const junit = fs.readFileSync(w.junit, 'utf8');
    expect(junit).toMatch(/<testcase name="baseline: latency p99: [^"]*"[^>]*>\s*<failure type="fail" message="Fail: P99/);
    expect(junit).toMatch(/Evidence: Mann–Whitney p/);
    expect(junit).toMatch(/<property name="baseline" value="base"/);
    const html = fs.readFileSync(w.html, 'utf8');
    expect(html).toMatch(/<h2>Baseline comparison<\/h2>/);
    expect(html).toMatch(/<td class="fail">Fail<\/td>/);
  });

  it('no baseline found: the section says why and nothing is compared', () => {
    const next = parseResults(storedRun('next', 2));
    const w = writeReports(tmp, { ...next, baseline: missingSection('last-pass', 'no run indexed yet', BaselineRulesSchema.parse({})) });
    expect(fs.readFileSync(w.markdown, 'utf8')).toMatch(/No baseline \(last-pass\): no run indexed yet; this run was not compared\./);
  });
});

describe('resolveBaseline', () => {
  it('last-pass: the newest passing run of the same profile and target, from the index', () => {
    const index = path.join(tmp, 'index.json');
    const opts = { indexFile: index, profile: 'smoke', target: 'local' };
    const none = resolveBaseline(LAST_PASS, opts);
    expect(none.results).toBeNull();
    expect(none.results === null && none.note).toMatch(/no run indexed yet/);
    const runs = [
      storedRun('old-pass', 1, {}, { startedAt: '2026-01-01T00:00:00.000Z' }),
      storedRun('new-pass', 2, {}, { startedAt: '2026-01-02T00:00:00.000Z' }),
      storedRun('newest-fail', 3, {}, { startedAt: '2026-01-03T00:00:00.000Z', verdict: 'fail' }),
      { ...storedRun('other-profile', 4, {}, { startedAt: '2026-01-04T00:00:00.000Z' }), profile: 'full' },
    ];
    for (const r of runs) indexRun(index, parseResults(r), writeRun(tmp, r), 'gate');
    expect(readIndex(index).runs.map((r) => [r.runId, r.verdict, r.path])).toEqual([
      ['old-pass', 'pass', 'old-pass'],
      ['new-pass', 'pass', 'new-pass'],
      ['newest-fail', 'fail', 'newest-fail'],
      ['other-profile', 'pass', 'other-profile'],
    ]);
    const found = resolveBaseline(LAST_PASS, opts);
    expect(found.results?.runId).toBe('new-pass');
    expect(found.file).toBe(path.join(tmp, 'new-pass', 'results.json'));
  });

  it('a file or folder that is not there is a usage error', () => {
    expect(() => resolveBaseline(path.join(tmp, 'missing'), { indexFile: path.join(tmp, 'i.json'), profile: 'smoke', target: 'local' })).toThrow(ResultsError);
  });
});
