// Redelivery schedules as data: parsed from the command line, checked, and their delays bounded.
import { describe, expect, it } from 'vitest';
import { checkSchedules, delayCap, describeSchedule, drawDelay, parseSchedule } from '../../../src/storm/schedule.ts';

describe('parseSchedule', () => {
  it('reads each timing, and writes it back the same way', () => {
    for (const text of ['after-heal=0.5:heal', 'soon=0.1:uniform(200ms,1200ms)', 'later=0.2:exponential(5s,1m)', 'once=1:fixed(3s)']) {
      expect(describeSchedule(parseSchedule(text))).toBe(text);
    }
    expect(parseSchedule('later=0.2:exponential(5s,60s)')).toEqual({ name: 'later', share: 0.2, after: { kind: 'exponential', meanMs: 5_000, maxMs: 60_000 } });
  });

  it('refuses what cannot run, saying why', () => {
    expect(() => parseSchedule('later=1.5:fixed(1s)')).toThrow(/share must be 0–1/);
    expect(() => parseSchedule('later=0.1:uniform(2s,1s)')).toThrow(/min ≤ max/);
    expect(() => parseSchedule('later=0.1:fixed(2h)')).toThrow(/0–1h/);
    expect(() => parseSchedule('later=0.1:gamma(1s,2s)')).toThrow(/unknown timing/);
    expect(() => parseSchedule('later=0.1:uniform(1s)')).toThrow(/needs 2 duration/);
    expect(() => parseSchedule('later=0.1:fixed(soon)')).toThrow(/invalid duration/);
    expect(() => parseSchedule('0.1:heal')).toThrow(/expected <name>=<share>/);
    expect(checkSchedules([parseSchedule('a=0.1:heal'), parseSchedule('a=0.2:heal')])).toEqual(['redelivery schedule a: named twice']);
  });
});

describe('drawDelay', () => {
  it('stays within each distribution and its cap', () => {
    const u = { kind: 'uniform', minMs: 200, maxMs: 1_200 } as const;
    expect(drawDelay(u, () => 0)).toBe(200);
    expect(drawDelay(u, () => 0.999)).toBe(1_199);
    const e = { kind: 'exponential', meanMs: 5_000, maxMs: 30_000 } as const;
    expect(drawDelay(e, () => 0)).toBe(0);
    // ln 2 · mean at the median.
    expect(drawDelay(e, () => 0.5)).toBe(Math.round(5_000 * Math.LN2));
    // The long tail is cut at the cap: every storm ends.
    expect(drawDelay(e, () => 0.999_999)).toBe(30_000);
    expect(delayCap(e)).toBe(30_000);
    for (let i = 0; i < 500; i++) expect(drawDelay(e)).toBeLessThanOrEqual(30_000);
    expect(drawDelay({ kind: 'fixed', ms: 3_000 })).toBe(3_000);
  });
});
