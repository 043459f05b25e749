// wait: a pause in the method, through the engine's abortable sleep. Fake timers stand in for the
// clock, so "not before 2 s" and "at once when aborted" are exact.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { fakeTarget, runStep, startFleet, stepContext, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
afterEach(() => void vi.useRealTimers());

/** Settles a promise's state into a flag the test can read between timer advances. */
function track(p: Promise<unknown>): { done: boolean } {
  const s = { done: false };
  void p.then(() => (s.done = true));
  return s;
}

describe('wait', () => {
  it('waits the duration written in the drill file, not a moment less', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    vi.useFakeTimers();
    const s = track(runStep({ wait: '2s' }, r.ctx));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(s.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.done).toBe(true);
    expect(r.sleeps).toEqual([2_000]);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.events).toEqual([]);
  });

  it('an abort ends it at once', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    vi.useFakeTimers();
    const s = track(runStep({ wait: '10m' }, r.ctx));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(s.done).toBe(false);
    r.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after an abort it does not wait at all', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    r.abort();
    vi.useFakeTimers();
    const s = track(runStep({ wait: 60_000 }, r.ctx));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.done).toBe(true);
    expect(r.sleeps).toEqual([60_000]);
  });

  it('the schema takes a duration text or milliseconds', () => {
    expect(StepSchema.parse({ wait: '1.5s' })).toEqual({ wait: 1_500 });
    expect(StepSchema.parse({ wait: 250 })).toEqual({ wait: 250 });
    for (const bad of ['soon', -1, { ms: 1 }]) expect(StepSchema.safeParse({ wait: bad }).success, JSON.stringify(bad)).toBe(false);
  });
});
