import { describe, expect, it } from 'vitest';
import { applyHostSaturation, hostSaturation } from '../../../src/score/host.ts';
import type { ThresholdResult, Verdict } from '../../../src/score/types.ts';

const t = (verdict: Verdict, unit?: string): ThresholdResult => ({ name: `${unit ?? 'count'} ${verdict}`, source: 'client', expr: 'x', observed: 1, verdict, detail: 'd', ...(unit ? { unit } : {}) });

describe('a busy host is not a slow fleet', () => {
  it('saturated at ≥ 90 % CPU or ≥ 10 % steal; quiet or unknown is not saturated', () => {
    expect(hostSaturation({ cpuPct: 96, stealPct: 0, generatorSharePct: 31 })).toBe('host saturated (CPU 96%, steal 0%, the generator 31% of it): this machine was busy, not necessarily the fleet slow');
    expect(hostSaturation({ cpuPct: 40, stealPct: 12, generatorSharePct: null })).toMatch(/^host saturated \(CPU 40%, steal 12%\)/);
    expect(hostSaturation({ cpuPct: 89.9, stealPct: 9.9, generatorSharePct: 50 })).toBeUndefined();
    expect(hostSaturation({ cpuPct: null, stealPct: null, generatorSharePct: null })).toBeUndefined();
  });

  it('on a saturated host failed latencies are inconclusive, passed ones (worse than real, still met) and counts stand; on a quiet host a failure stays a failure', () => {
    const ts = [t('fail', 'ms'), t('pass', 's'), t('fail'), t('fail', 'ratio'), t('no_data', 'ms')];
    const busy = applyHostSaturation(ts, 'host saturated (CPU 96%)');
    expect(busy.map((x) => x.verdict)).toEqual(['inconclusive', 'pass', 'fail', 'fail', 'no_data']);
    expect(busy[0]!.detail).toBe('host saturated (CPU 96%) (measured fail): d');
    expect(applyHostSaturation(ts, undefined).map((x) => x.verdict)).toEqual(['fail', 'pass', 'fail', 'fail', 'no_data']);
  });
});
