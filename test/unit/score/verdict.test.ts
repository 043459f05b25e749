import { describe, expect, it } from 'vitest';
import { ProfileError } from '../../../src/config/errors.ts';
import { PromError } from '../../../src/prom/client.ts';
import { EXIT, exitCodeFor, exitCodeForError, overallVerdict } from '../../../src/score/verdict.ts';
import type { Verdict } from '../../../src/score/types.ts';

const t = (verdict: Verdict, source: 'client' | 'promql' = 'promql') => ({ verdict, source });

describe('overall verdict and exit codes (plan §9)', () => {
  it('all pass → 0', () => {
    expect(overallVerdict({ thresholds: [t('pass'), t('pass', 'client')] })).toMatchObject({ verdict: 'pass', exitCode: 0 });
  });

  it('a failure → 1, and fail beats no data', () => {
    expect(overallVerdict({ thresholds: [t('pass'), t('fail')] }).exitCode).toBe(1);
    const r = overallVerdict({ thresholds: [t('no_data'), t('fail'), t('pass')] });
    expect(r).toMatchObject({ verdict: 'fail', exitCode: 1 });
    expect(r.reasons.join('; ')).toMatch(/1 threshold\(s\) failed.*1 threshold\(s\) had no data/);
  });

  it('no data without failures → 3', () => {
    expect(overallVerdict({ thresholds: [t('pass'), t('no_data')] })).toMatchObject({ verdict: 'no_data', exitCode: 3 });
  });

  it('nothing evaluated is no data, not a pass', () => {
    expect(overallVerdict({ thresholds: [] })).toMatchObject({ verdict: 'no_data', exitCode: 3 });
  });

  it('a saturated generator makes client results inconclusive (3), server failures still fail (1)', () => {
    expect(overallVerdict({ thresholds: [t('pass', 'client'), t('pass')], saturated: true })).toMatchObject({ verdict: 'inconclusive', exitCode: 3 });
    expect(overallVerdict({ thresholds: [t('fail', 'client'), t('pass')], saturated: true })).toMatchObject({ verdict: 'inconclusive', exitCode: 3 });
    expect(overallVerdict({ thresholds: [t('pass', 'client'), t('fail')], saturated: true })).toMatchObject({ verdict: 'fail', exitCode: 1 });
  });

  it('an aborted run cannot pass, but its failures count', () => {
    expect(overallVerdict({ thresholds: [t('pass')], aborted: true })).toMatchObject({ verdict: 'inconclusive', exitCode: 3 });
    expect(overallVerdict({ thresholds: [t('fail')], aborted: true })).toMatchObject({ verdict: 'fail', exitCode: 1 });
  });

  it('maps verdicts and errors to exit codes', () => {
    expect([exitCodeFor('pass'), exitCodeFor('fail'), exitCodeFor('no_data'), exitCodeFor('inconclusive')]).toEqual([0, 1, 3, 3]);
    expect(exitCodeForError(new PromError('unreachable', 'http://x', 'up', 'down'))).toBe(EXIT.noData);
    expect(exitCodeForError(new PromError('query', 'http://x', 'sum(', 'bad', 'bad_data'))).toBe(EXIT.usage);
    expect(exitCodeForError(new PromError('query', 'http://x', 'up', 'slow', 'timeout'))).toBe(EXIT.noData);
    expect(exitCodeForError(new ProfileError('p.yaml', ['p.yaml: name: required']))).toBe(EXIT.usage);
  });
});
