import { describe, expect, it } from 'vitest';
import { DEFAULT_METRICS } from '../../../src/config/default-metrics.ts';
import { alertWindow, combineRow } from '../../../src/score/metrics.ts';
import type { ThresholdResult } from '../../../src/score/types.ts';

const res = (verdict: ThresholdResult['verdict'], observed: number | null = 1): ThresholdResult => ({ name: 'x', source: 'promql', expr: 'x', observed, verdict, detail: verdict });
const row = DEFAULT_METRICS.find((m) => m.metric === 'Gateway CPU utilization')!;

describe('metric rows', () => {
  it('alert windows cover `for` with consecutive steps no finer than the scrape interval', () => {
    expect(alertWindow(300, 15)).toEqual({ step: 50, consecutive: 6 });
    expect(alertWindow(60, 1)).toEqual({ step: 10, consecutive: 6 });
    expect(alertWindow(0, 1)).toEqual({ step: 1, consecutive: 1 });
    expect(alertWindow(3600, 15)).toEqual({ step: 60, consecutive: 60 });
  });

  it('target met and alert silent → pass; a fired alert fails even when the average met the target', () => {
    expect(combineRow(row, res('pass', 0.4), res('pass'))).toMatchObject({ verdict: 'pass', observed: 0.4, alerting: false });
    expect(combineRow(row, res('pass', 0.4), res('fail'))).toMatchObject({ verdict: 'fail', alerting: true });
    expect(combineRow(row, res('fail', 0.75), res('pass'))).toMatchObject({ verdict: 'fail' });
  });

  it('no data for the target is no data (never a pass)', () => {
    expect(combineRow(row, res('no_data', null), res('no_data', null))).toMatchObject({ verdict: 'no_data', observed: null, alerting: null });
  });
});
