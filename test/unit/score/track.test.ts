import { describe, expect, it } from 'vitest';
import { effectiveCount, runPhase, Track, TrackSpecError, validateTrackSpec, worstPhase, type MeasurementPhase, type TrackSpec } from '../../../src/score/track.ts';

/** Feed phases one second apart; returns the track. */
function feed(spec: TrackSpec, phases: MeasurementPhase[]): Track {
  const t = new Track(spec, 0);
  phases.forEach((p, i) => t.add({ phase: p, value: p === 'Error' ? null : i, detail: `#${i} ${p}`, at: (i + 1) * 1000 }));
  return t;
}

const S: MeasurementPhase = 'Successful';
const F: MeasurementPhase = 'Failed';
const I: MeasurementPhase = 'Inconclusive';
const E: MeasurementPhase = 'Error';

describe('Track: Argo Rollouts metric semantics', () => {
  it('with no interval a metric takes one measurement and is done', () => {
    expect(effectiveCount({})).toBe(1);
    expect(effectiveCount({ intervalMs: 1000 })).toBeUndefined();
    expect(effectiveCount({ intervalMs: 1000, count: 3 })).toBe(3);
    const t = feed({ name: 'once' }, [S]);
    expect(t.phase).toBe('Successful');
    expect(t.nextDueAt()).toBeUndefined();
  });

  it('failureLimit defaults to 0: the first Failed measurement fails the metric', () => {
    const t = feed({ name: 'm', intervalMs: 1000, count: 5 }, [S, F]);
    expect(t.phase, t.message).toBe('Failed');
    expect(t.message).toMatch(/failureLimit 0/);
  });

  it('failureLimit 2 tolerates two failures anywhere in the run, not three', () => {
    expect(feed({ name: 'm', intervalMs: 1000, count: 6, failureLimit: 2 }, [F, S, F, S, S, S]).phase).toBe('Successful');
    expect(feed({ name: 'm', intervalMs: 1000, count: 6, failureLimit: 2 }, [F, S, F, S, F]).phase).toBe('Failed');
  });

  it('errors are not counted toward count; the fifth error in a row (default limit 4) ends in Error', () => {
    const t = feed({ name: 'm', intervalMs: 1000, count: 2 }, [E, E, E, E]);
    expect(t.phase).toBe('Running');
    expect(t.counters.count).toBe(0);
    t.add({ phase: E, value: null, detail: 'no data', at: 9000 });
    expect(t.phase).toBe('Error');
    expect(t.message).toMatch(/5 errors in a row > consecutiveErrorLimit 4/);
  });

  it('a non-error measurement resets the error streak', () => {
    const t = feed({ name: 'm', intervalMs: 1000, count: 10, failureLimit: 10 }, [E, E, E, E, S, E, E, E, E]);
    expect(t.phase).toBe('Running');
  });

  it('limits are checked on every measurement: inconclusive measurements beyond inconclusiveLimit end the metric even while failures stay within theirs', () => {
    const t = new Track({ name: 'm', intervalMs: 1, count: 10, failureLimit: 3, inconclusiveLimit: 1 }, 0);
    for (const p of [F, F, F, I]) t.add({ phase: p, value: null, detail: p, at: 1 });
    expect(t.phase).toBe('Running');
    t.add({ phase: I, value: null, detail: 'I', at: 2 });
    expect(t.phase).toBe('Inconclusive');
    expect(t.message).toMatch(/2 inconclusive measurement\(s\) > inconclusiveLimit 1/);
  });

  it('consecutiveSuccessLimit ends the metric early; reaching count without the streak is Inconclusive, or Failed with failureLimit −1', () => {
    expect(feed({ name: 'm', intervalMs: 1000, count: 10, consecutiveSuccessLimit: 2, failureLimit: 5 }, [F, S, S]).phase).toBe('Successful');
    expect(feed({ name: 'm', intervalMs: 1000, count: 4, consecutiveSuccessLimit: 2, failureLimit: 2 }, [S, F, S, F]).phase).toBe('Inconclusive');
    const t = feed({ name: 'm', intervalMs: 1000, count: 4, consecutiveSuccessLimit: 2, failureLimit: -1 }, [S, F, S, F]);
    expect(t.phase).toBe('Failed');
    expect(t.message).toMatch(/without 2 successful in a row/);
  });

  it('an unbounded metric runs until terminated, then is Successful; one that never measured is Error', () => {
    const t = feed({ name: 'm', intervalMs: 1000 }, [S, S, S]);
    expect(t.phase).toBe('Running');
    expect(t.terminate('method ended')).toBe('Successful');
    const never = new Track({ name: 'n', intervalMs: 1000 }, 0);
    expect(never.terminate()).toBe('Successful'); // terminated before it was due: Argo's rule
    const tried = feed({ name: 'e', intervalMs: 1000 }, [E, E]);
    expect(tried.terminate()).toBe('Error');
  });

  it('initialDelay, interval and the error retry interval schedule the next measurement', () => {
    const t = new Track({ name: 'm', intervalMs: 5000, initialDelayMs: 3000, errorRetryMs: 10_000, count: 3 }, 100);
    expect(t.nextDueAt()).toBe(3100);
    t.add({ phase: S, value: 1, detail: 'ok', at: 3200 });
    expect(t.nextDueAt()).toBe(8200);
    t.add({ phase: E, value: null, detail: 'query failed', at: 8300 });
    expect(t.nextDueAt()).toBe(18_300);
  });

  it('run phase: Running while any metric runs, then the worst; dry-run metrics never decide', () => {
    const ok = feed({ name: 'a' }, [S]);
    const bad = feed({ name: 'b' }, [F]);
    const dry = feed({ name: 'c', dryRun: true }, [F]);
    const running = feed({ name: 'd', intervalMs: 1000 }, [S]);
    expect(runPhase([ok, dry])).toBe('Successful');
    expect(runPhase([ok, bad])).toBe('Failed');
    expect(runPhase([ok, running])).toBe('Running');
    expect(runPhase([])).toBe('Successful');
    expect(worstPhase(['Successful', 'Inconclusive', 'Error'])).toBe('Error');
  });
});

describe('Track: ClawStorm extensions', () => {
  it('consecutiveFailureLimit fails on a streak, not on scattered failures; errors neither extend nor reset the streak', () => {
    const spec: TrackSpec = { name: 'probe', intervalMs: 1000, failureLimit: -1, consecutiveFailureLimit: 2 };
    expect(feed(spec, [F, F, S, F, F, S]).phase).toBe('Running');
    expect(feed(spec, [F, F, F]).phase).toBe('Failed');
    // A gap between failures is not a recovery.
    const gap = feed(spec, [F, E, F, E, F]);
    expect(gap.phase).toBe('Failed');
    expect(gap.message).toMatch(/3 failed measurements in a row > 2 tolerated/);
  });

  it('maxErrorShare: a probe that measured once in ten tries is Inconclusive, not a pass (the old silent pass)', () => {
    const spec: TrackSpec = { name: 'probe', intervalMs: 1000, failureLimit: -1, consecutiveFailureLimit: 0, maxErrorShare: 0.5 };
    const t = feed(spec, [S, E, E, E, S, E, E, E, E]);
    // never five errors in a row, so the consecutive-error limit alone would let it pass
    expect(t.phase).toBe('Running');
    expect(t.terminate('method ended')).toBe('Inconclusive');
    expect(t.message).toMatch(/7 of 9 attempts measured nothing/);
    const mostlyMeasured = feed(spec, [S, S, E, S, S]);
    expect(mostlyMeasured.terminate()).toBe('Successful');
  });

  it('validation follows Argo: count ≥ failureLimit + consecutiveSuccessLimit, count > 1 needs an interval, −1 needs a success streak', () => {
    expect(() => validateTrackSpec({ name: 'x', count: 3 })).toThrow(/count > 1 needs an interval/);
    expect(() => validateTrackSpec({ name: 'x', intervalMs: 1, count: 3, failureLimit: 2, consecutiveSuccessLimit: 2 })).toThrow(/count \(3\) must be ≥ failureLimit \+ consecutiveSuccessLimit \(4\)/);
    expect(() => validateTrackSpec({ name: 'x', intervalMs: 1, failureLimit: -1 })).toThrow(TrackSpecError);
    expect(() => validateTrackSpec({ name: 'x', intervalMs: 1, failureLimit: -2, consecutiveSuccessLimit: 1 })).toThrow(/failureLimit/);
    expect(() => validateTrackSpec({ name: 'x', intervalMs: 1, count: 2, inconclusiveLimit: 3 })).toThrow(/inconclusiveLimit/);
    expect(() => validateTrackSpec({ name: 'x', intervalMs: 1000, count: 5, failureLimit: 2, consecutiveSuccessLimit: 3 })).not.toThrow();
  });

  it('a finished metric ignores further measurements', () => {
    const t = feed({ name: 'm' }, [F]);
    t.add({ phase: S, value: 1, detail: 'late', at: 5 });
    expect(t.phase).toBe('Failed');
    expect(t.measurements).toHaveLength(1);
  });
});
