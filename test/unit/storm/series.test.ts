import { describe, expect, it } from 'vitest';
import { stormSeconds } from '../../../src/storm/series.ts';

const at = (s: number, ms = 0) => s * 1000 + ms;

describe('a storm discipline per second', () => {
  const attempts = [
    { at: at(100, 10), status: 429 },
    { at: at(100, 20), status: 200, runId: 'r1' },
    { at: at(100, 900), status: 503 },
    { at: at(103, 5), status: 200, runId: 'r2' },
    // r2 redelivered and answered with the same run: accepted again, lost once
    { at: at(103, 700), status: 200, runId: 'r2' },
    { at: at(104, 1), status: 0 },
  ];

  it('counts requests, accepted and 429 by the second of the answer; seconds without answers are zeros', () => {
    expect(stormSeconds(attempts, [])).toEqual([
      { t: 100, requests: 3, accepted: 1, status429: 1, lost: 0 },
      { t: 101, requests: 0, accepted: 0, status429: 0, lost: 0 },
      { t: 102, requests: 0, accepted: 0, status429: 0, lost: 0 },
      { t: 103, requests: 2, accepted: 2, status429: 0, lost: 0 },
      { t: 104, requests: 1, accepted: 0, status429: 0, lost: 0 },
    ]);
  });

  it('a lost run counts once, in the second it was first acknowledged', () => {
    const s = stormSeconds(attempts, ['r2']);
    expect(s.map((x) => x.lost)).toEqual([0, 0, 0, 1, 0]);
  });

  it('when the receiving side could not be read, lost is not known in any second (null, not 0)', () => {
    expect(stormSeconds(attempts, null).every((x) => x.lost === null)).toBe(true);
    expect(stormSeconds([], [])).toEqual([]);
  });
});
