import { describe, expect, it } from 'vitest';
import { Track } from '../../../src/score/track.ts';
import { runTracks } from '../../../src/score/track-run.ts';

/** A clock that only moves when the loop sleeps: every schedule is exact and the test instant. */
function fakeClock(): { now: () => number; sleep: (ms: number, signal?: AbortSignal) => Promise<boolean> } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) return false;
      t += ms;
      return true;
    },
  };
}

describe('runTracks', () => {
  it('measures each track on its own schedule until every track is complete', async () => {
    const clock = fakeClock();
    const fast = new Track({ name: 'fast', intervalMs: 1_000, count: 4 }, 0);
    const slow = new Track({ name: 'slow', intervalMs: 3_000, count: 2, initialDelayMs: 500 }, 0);
    const seen: string[] = [];
    await runTracks(
      [
        { track: fast, measure: async () => ({ phase: 'Successful', value: 1, detail: 'ok' }) },
        { track: slow, measure: async () => ({ phase: 'Successful', value: 2, detail: 'ok' }) },
      ],
      { ...clock, onMeasurement: (t, m) => seen.push(`${t.spec.name}@${m.at}`) },
    );
    expect(fast.phase).toBe('Successful');
    expect(slow.phase).toBe('Successful');
    expect(seen).toEqual(['fast@0', 'slow@500', 'fast@1000', 'fast@2000', 'fast@3000', 'slow@3500']);
  });

  it('a measure that throws is an Error measurement with its message, and errors are retried', async () => {
    const clock = fakeClock();
    const t = new Track({ name: 'q', intervalMs: 1_000, count: 1, errorRetryMs: 250 }, 0);
    let calls = 0;
    await runTracks(
      [{ track: t, measure: async () => { calls += 1; if (calls < 3) throw new Error('Prometheus: 503'); return { phase: 'Successful', value: 1, detail: 'ok' }; } }],
      clock,
    );
    expect(t.phase).toBe('Successful');
    expect(t.counters.error).toBe(2);
    expect(t.measurements.map((m) => m.at)).toEqual([0, 250, 500]);
    expect(t.measurements[0]!.detail).toBe('Prometheus: 503');
  });

  it('stops when its signal aborts and leaves running tracks for the caller to end', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    const t = new Track({ name: 'during', intervalMs: 1_000 }, 0);
    let n = 0;
    await runTracks([{ track: t, measure: async () => { n += 1; if (n === 3) ac.abort(); return { phase: 'Successful', value: n, detail: 'ok' }; } }], { ...clock, signal: ac.signal });
    expect(n).toBe(3);
    expect(t.phase).toBe('Running');
    expect(t.terminate('method ended')).toBe('Successful');
  });
});
