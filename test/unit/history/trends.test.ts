// The run index, `report trends` and retention: runs over time per scenario, failed gates and
// regressions marked, the baseline drawn, and --keep never deleting the baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compareRuns } from '../../../src/baseline/compare.ts';
import { comparisonSection } from '../../../src/baseline/section.ts';
import { withBaselineThresholds } from '../../../src/baseline/thresholds.ts';
import { main } from '../../../src/cli/main.ts';
import { EXIT } from '../../../src/cli/errors.ts';
import { indexRun } from '../../../src/history/record.ts';
import { applyRetention } from '../../../src/history/retention.ts';
import { appendRun, readIndex } from '../../../src/history/run-index.ts';
import { buildTrends } from '../../../src/history/trends.ts';
import { parseResults, type Results, type ResultsInput } from '../../../src/report/results.ts';
import { storedRun, writeRun } from '../baseline/runs.ts';

let tmp: string;
let runsDir: string;
let index: string;
let out: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-trends-'));
  runsDir = path.join(tmp, 'runs');
  index = path.join(runsDir, 'index.json');
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const at = (day: number) => `2026-01-0${day}T02:00:00.000Z`;

/** As a gate with --baseline writes it: baseline thresholds in the scenario, the section, the verdict. */
function judgedAgainst(base: Results, r: ResultsInput): ResultsInput {
  const next = parseResults(r);
  const c = compareRuns(base, next);
  const scenarios = withBaselineThresholds(next.scenarios, c);
  const failed = scenarios.some((s) => s.status === 'Fail');
  return { ...next, scenarios, verdict: failed ? 'fail' : 'pass', exitCode: failed ? 1 : 0, baseline: comparisonSection(c, { requested: 'last-pass', file: 'x', startedAt: base.startedAt }) };
}

/** Five nightly runs: a pass (the baseline), two clean, one regressed by +40 ms, one clean. */
function fiveNights(): Results[] {
  const first = parseResults(storedRun('night-1', 1, {}, { startedAt: at(1) }));
  const runs: ResultsInput[] = [
    first,
    judgedAgainst(first, storedRun('night-2', 2, {}, { startedAt: at(2) })),
    judgedAgainst(first, storedRun('night-3', 3, {}, { startedAt: at(3) })),
    judgedAgainst(first, storedRun('night-4', 4, { shiftMs: 40 }, { startedAt: at(4) })),
    judgedAgainst(first, storedRun('night-5', 5, {}, { startedAt: at(5) })),
  ];
  return runs.map((r) => {
    const p = parseResults(r);
    indexRun(index, p, writeRun(runsDir, r), 'gate');
    return p;
  });
}

describe('run index', () => {
  it('appends each run once, with its verdict, baseline and regression flag, paths relative to the index', () => {
    fiveNights();
    const runs = readIndex(index).runs;
    expect(runs.map((r) => [r.runId, r.verdict, r.baselineRunId, r.regression, r.path])).toEqual([
      ['night-1', 'pass', null, false, 'night-1'],
      ['night-2', 'pass', 'night-1', false, 'night-2'],
      ['night-3', 'pass', 'night-1', false, 'night-3'],
      ['night-4', 'fail', 'night-1', true, 'night-4'],
      ['night-5', 'pass', 'night-1', false, 'night-5'],
    ]);
    // Indexing the same run again replaces its entry instead of doubling it.
    appendRun(index, { ...runs[4]!, path: path.join(runsDir, 'night-5'), verdict: 'fail' });
    expect(readIndex(index).runs.filter((r) => r.runId === 'night-5').map((r) => r.verdict)).toEqual(['fail']);
  });

  it('a corrupt index is a usage error, not a silent empty history', async () => {
    fs.mkdirSync(runsDir, { recursive: true });
    fs.writeFileSync(index, '{"schema":"clawstorm.run-index/v1","runs":[{"runId":1}]}');
    expect(await main(['report', 'trends', '--index', index])).toBe(EXIT.usage);
  });
});

describe('report trends', () => {
  it('trends.html and trends.md: the points per run, the regression ringed, the failed gate marked, the baseline line', async () => {
    fiveNights();
    expect(await main(['report', 'trends', '--index', index])).toBe(EXIT.ok);
    expect(out).toMatch(/5 runs, 1 scenarios, baseline night-1/);
    const html = fs.readFileSync(path.join(runsDir, 'trends.html'), 'utf8');
    expect(html.match(/class="regression"/g)).toHaveLength(1);
    expect(html).toMatch(/<title>night-4: regression against the baseline<\/title>/);
    expect(html.match(/class="gate-failed"/g)?.length).toBe(3); // one per chart of the failed run
    expect(html).toMatch(/stroke-dasharray="5,3"><title>baseline P99: /);
    // One P99 point per run.
    expect(html.match(/<title>night-\d P99: /g)).toHaveLength(5);
    const md = fs.readFileSync(path.join(runsDir, 'trends.md'), 'utf8');
    expect(md).toMatch(/Baseline: night-1 \(the baseline night-5 was judged against\)/);
    expect(md).toMatch(/\| Policy Evaluation \| [\d.]+ ms \([+-][\d.]+ %\) \| .* \| 1 of 5 \| 1 of 5 \|/);
  });

  it('a regression measured on a saturated host is drawn as inconclusive (dashed ring), not as a regression', () => {
    const first = fiveNights()[0]!;
    const busy = parseResults(storedRun('night-6', 6, { shiftMs: 40 }, { startedAt: '2026-01-06T02:00:00.000Z' }));
    busy.scenarios[0]!.reasons = ['host saturated (CPU 100%, steal 0%): this machine was busy, not necessarily the fleet slow'];
    busy.scenarios[0]!.status = 'Inconclusive';
    const r = judgedAgainst(first, busy);
    indexRun(index, parseResults(r), writeRun(runsDir, r), 'gate');
    const t = buildTrends(index, readIndex(index), { last: 1 });
    expect(t.scenarios[0]!.points[0]).toMatchObject({ regression: false, untrustedRegression: true });
    expect(readIndex(index).runs.at(-1)!.regression).toBe(false);
  });

  it('--last N draws only the newest N runs', () => {
    fiveNights();
    const t = buildTrends(index, readIndex(index), { last: 2 });
    expect(t.runs.map((r) => r.runId)).toEqual(['night-4', 'night-5']);
    expect(t.scenarios[0]!.points.map((p) => p?.regression)).toEqual([true, false]);
    expect(t.baseline?.runId).toBe('night-1');
  });

  it('a run whose folder is gone is listed as missing, not dropped', () => {
    fiveNights();
    fs.rmSync(path.join(runsDir, 'night-3'), { recursive: true });
    const t = buildTrends(index, readIndex(index));
    expect(t.runs[2]!.missing).toMatch(/cannot read results/);
    expect(t.scenarios[0]!.points[2]).toBeNull();
  });
});

describe('retention', () => {
  it('--keep 2 deletes the old runs but never the baseline', async () => {
    fiveNights();
    expect(await main(['report', 'trends', '--index', index, '--keep', '2'])).toBe(EXIT.ok);
    expect(readIndex(index).runs.map((r) => r.runId)).toEqual(['night-1', 'night-4', 'night-5']);
    expect(fs.existsSync(path.join(runsDir, 'night-1', 'results.json'))).toBe(true);
    expect(fs.existsSync(path.join(runsDir, 'night-2'))).toBe(false);
    expect(fs.existsSync(path.join(runsDir, 'night-3'))).toBe(false);
  });

  it('a run folder outside the index folder is unlisted, never deleted', () => {
    const outside = path.join(tmp, 'elsewhere');
    const r = storedRun('far', 9, {}, { startedAt: at(1) });
    indexRun(index, parseResults(r), writeRun(outside, r), 'gate');
    for (const d of [2, 3]) {
      const x = storedRun(`n${d}`, d, {}, { startedAt: at(d), verdict: 'fail' });
      indexRun(index, parseResults(x), writeRun(runsDir, x), 'gate');
    }
    // `far` is the only pass, so it stays as the baseline; make a newer pass so it does not.
    const p = storedRun('n4', 4, {}, { startedAt: at(4) });
    indexRun(index, parseResults(p), writeRun(runsDir, p), 'gate');
    const ret = applyRetention(index, 1);
    expect(ret.kept.map((k) => k.runId)).toEqual(['n4']);
    expect(ret.removed.map((x) => [x.entry.runId, x.folderDeleted])).toEqual([
      ['far', false],
      ['n2', true],
      ['n3', true],
    ]);
    expect(fs.existsSync(path.join(outside, 'far', 'results.json'))).toBe(true);
  });

  it('--keep 0 is a usage error', async () => {
    fiveNights();
    expect(await main(['report', 'trends', '--index', index, '--keep', '0'])).toBe(EXIT.usage);
  });
});
