import { describe, expect, it } from 'vitest';
import { applySaturation, statusOf, statusOfVerdict, statusText } from '../../../src/score/status.ts';
import type { ThresholdResult, Verdict } from '../../../src/score/types.ts';

const t = (verdict: Verdict, source: 'client' | 'promql' = 'client'): ThresholdResult => ({ name: `${source} ${verdict}`, source, expr: 'x', observed: 1, verdict, detail: 'd' });

describe('status vocabulary', () => {
  it('one word per verdict; fail > inconclusive > no data > pass; nothing judged is no data', () => {
    expect((['pass', 'fail', 'inconclusive', 'no_data'] as const).map(statusOfVerdict)).toEqual(['Pass', 'Fail', 'Inconclusive', 'No data']);
    expect(statusOf([t('pass'), t('fail'), t('no_data')], false)).toBe('Fail');
    expect(statusOf([t('pass'), t('inconclusive'), t('no_data')], false)).toBe('Inconclusive');
    expect(statusOf([t('pass'), t('no_data')], false)).toBe('No data');
    expect(statusOf([], false)).toBe('No data');
    expect(statusOf([t('pass')], false)).toBe('Pass');
    expect(statusOf([t('pass')], true)).toBe('Inconclusive');
    expect(statusText('Fail', false)).toBe('Fail (not gating)');
  });

  it('a saturated generator makes client-side verdicts inconclusive once, at the source; server-side ones stand', () => {
    const out = applySaturation([t('pass'), t('fail'), t('no_data'), t('fail', 'promql')], true);
    expect(out.map((x) => x.verdict)).toEqual(['inconclusive', 'inconclusive', 'no_data', 'fail']);
    expect(out[1]!.detail).toMatch(/load generator saturated \(measured fail\)/);
    expect(applySaturation(out, true)).toEqual(out);
    expect(applySaturation([t('pass')], false)[0]!.verdict).toBe('pass');
  });
});
