// Bounded concurrency for batches of redeliveries; a random choice of keys without repeats.
import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../../src/util/pool.ts';
import { sample } from '../../../src/util/sample.ts';

describe('forEachBounded', () => {
  it('runs every item, never more than the limit at once', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      done.push(x);
      inFlight -= 1;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
    await forEachBounded([], 3, async () => {
      throw new Error('not called');
    });
  });
});

describe('sample', () => {
  it('n distinct items of the list; all of them when n is larger', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    for (let i = 0; i < 20; i++) {
      const s = sample(xs, 10);
      expect(s).toHaveLength(10);
      expect(new Set(s).size).toBe(10);
      for (const x of s) expect(xs).toContain(x);
    }
    expect(sample(xs, 80).sort((a, b) => a - b)).toEqual(xs);
    expect(sample(xs, 0)).toEqual([]);
    expect(xs).toHaveLength(50); // the list itself is left alone
  });
});
