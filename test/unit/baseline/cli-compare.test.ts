// `clawstorm compare BASE NEW` through the CLI: a 40 ms shift of policy evaluation is a
// regression (exit 1) printed with its evidence; two runs of one distribution are not (exit 0);
// a path that is neither a results file nor a run folder is a usage error (exit 2).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { EXIT } from '../../../src/cli/errors.ts';
import { BaselineSectionSchema } from '../../../src/report/baseline-schema.ts';
import { storedRun, writeRun } from './runs.ts';

let tmp: string;
let out: string;
let err: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-compare-'));
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('clawstorm compare', () => {
  it('flags a +40 ms shift of policy evaluation as a regression with the judge’s evidence (exit 1)', async () => {
    const base = writeRun(tmp, storedRun('base', 1));
    const next = writeRun(tmp, storedRun('slow', 2, { shiftMs: 40 }));
    const json = path.join(tmp, 'cmp.json');
    const code = await main(['compare', base, path.join(next, 'results.json'), '--json', json]);
    expect(code, out + err).toBe(EXIT.failed);
    expect(out).toMatch(/\| Policy Evaluation \| latency p99 \| .* \| High \| Fail \|/);
    expect(out).toMatch(/Mann–Whitney p (= [0-9.e-]+|< 1e-300), shift \+\d+(\.\d+)? ms \(98 % CI/);
    const section = BaselineSectionSchema.parse(JSON.parse(fs.readFileSync(json, 'utf8')));
    const p99 = section.scenarios[0]!.metrics.find((m) => m.metric === 'latency p99')!;
    expect(p99.verdict).toBe('fail');
    expect(p99.evidence?.test).toBe('mann-whitney');
    if (p99.evidence?.test === 'mann-whitney') expect(p99.evidence.shiftMs).toBeGreaterThan(35);
  });

  it('two runs of one distribution: no regression (exit 0), evidence printed for the passes too', async () => {
    const base = writeRun(tmp, storedRun('a', 1));
    const next = writeRun(tmp, storedRun('b', 2));
    expect(await main(['compare', base, next]), out).toBe(EXIT.ok);
    expect(out).toMatch(/latency p99: Pass — .*Evidence: Mann–Whitney p = /);
    expect(out).toMatch(/error rate: Pass — .*Fisher exact p = /);
  });

  it('profile rules and flags: P50/P95 rows, a tighter budget', async () => {
    const base = writeRun(tmp, storedRun('a', 1));
    const next = writeRun(tmp, storedRun('b', 2, { shiftMs: 6 }));
    const code = await main(['compare', base, next, '--percentiles', '50', '95', '--max-increase-pct', '5']);
    expect(out).toMatch(/latency p50/);
    expect(out).toMatch(/latency p95/);
    expect(out).not.toMatch(/latency p99 \|/);
    expect(code, out).toBe(EXIT.failed);
  });

  it('template rows neither run ran are left out; a scenario only one run ran is no data (exit 3)', async () => {
    const withNotRun = (r: ReturnType<typeof storedRun>) => ({ ...r, scenarios: [...r.scenarios, { ...r.scenarios[0]!, name: 'audit-write', title: 'Audit Write', status: 'Not run' as const, requests: 0, histogram: undefined }] });
    const base = writeRun(tmp, withNotRun(storedRun('a', 1)));
    const next = writeRun(tmp, withNotRun(storedRun('b', 2)));
    expect(await main(['compare', base, next]), out).toBe(EXIT.ok);
    expect(out).not.toMatch(/Audit Write/);
    const partial = storedRun('c', 3);
    const ranAudit = writeRun(tmp, { ...partial, runId: 'c', scenarios: [...partial.scenarios, { ...partial.scenarios[0]!, name: 'audit-write', title: 'Audit Write' }] });
    out = '';
    expect(await main(['compare', base, ranAudit]), out).toBe(EXIT.inconclusive);
    expect(out).toMatch(/Audit Write · latency p99: No data — scenario missing from the baseline run/);
  });

  it('error rate up beyond noise is a regression', async () => {
    const base = writeRun(tmp, storedRun('a', 1, {}, { errors: 2 }));
    const next = writeRun(tmp, storedRun('b', 2, {}, { errors: 40 }));
    expect(await main(['compare', base, next]), out).toBe(EXIT.failed);
    expect(out).toMatch(/error rate: Fail — error rate 2\/5000 → 40\/5000/);
  });

  it('a path that is neither a results file nor a run folder: exit 2, one line', async () => {
    const base = writeRun(tmp, storedRun('a', 1));
    expect(await main(['compare', base, path.join(tmp, 'nope')])).toBe(EXIT.usage);
    expect(err).toMatch(/nope: no such results file or run folder/);
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(await main(['compare', base, path.join(tmp, 'empty')])).toBe(EXIT.usage);
    expect(err).toMatch(/a run folder without results.json/);
  });
});
