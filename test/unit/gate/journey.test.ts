// The mix of the mixed workload and the per-iteration templates of scenario files.
import { describe, expect, it } from 'vitest';
import { weightedSequence } from '../../../src/gate/journey.ts';
import { render } from '../../../src/config/scenario.ts';

const MIX = [40, 25, 20, 10, 5] as const;

function counts(seq: readonly number[], n: number): number[] {
  const out = Array.from({ length: n }, () => 0);
  for (const i of seq) out[i] = (out[i] ?? 0) + 1;
  return out;
}

describe('weightedSequence', () => {
  it('gives exactly 40/25/20/10/5 of every 100 iterations', () => {
    const seq = weightedSequence(MIX);
    expect(seq).toHaveLength(100);
    expect(counts(seq, MIX.length)).toEqual([40, 25, 20, 10, 5]);
    // The iteration function indexes seq modulo its length, so each further 100 is the same mix.
    const long = weightedSequence(MIX, 1_000);
    for (let k = 0; k < 10; k++) expect(counts(long.slice(k * 100, (k + 1) * 100), MIX.length)).toEqual([40, 25, 20, 10, 5]);
  });

  it('interleaves the journeys instead of running them in blocks', () => {
    const seq = weightedSequence(MIX);
    // A block layout (40×0, then 25×1, …) would have 4 runs; smooth round-robin switches often.
    let runs = 1;
    for (let i = 1; i < seq.length; i++) if (seq[i] !== seq[i - 1]) runs += 1;
    expect(runs).toBeGreaterThan(50);
    // Every window of 20 iterations holds the three big journeys, so a short smoke run sees the mix.
    for (let s = 0; s + 20 <= seq.length; s++) {
      const c = counts(seq.slice(s, s + 20), MIX.length);
      expect(c[0], `window at ${s}`).toBeGreaterThanOrEqual(7);
      expect(c[1], `window at ${s}`).toBeGreaterThanOrEqual(4);
      expect(c[2], `window at ${s}`).toBeGreaterThanOrEqual(3);
    }
    // The heaviest journey never runs more than twice in a row (40% of the mix).
    let longest = 1;
    let cur = 1;
    for (let i = 1; i < seq.length; i++) {
      cur = seq[i] === seq[i - 1] ? cur + 1 : 1;
      longest = Math.max(longest, cur);
    }
    expect(longest).toBeLessThanOrEqual(2);
  });

  it('one journey, or equal weights, is plain round robin', () => {
    expect(weightedSequence([1], 5)).toEqual([0, 0, 0, 0, 0]);
    expect(weightedSequence([1, 1, 1], 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });
});

describe('render', () => {
  const vars = { user: 'u-7', iteration: 12, run: 'r1' };

  it('a string that is exactly one variable keeps the variable type', () => {
    expect(render('{{iteration}}', vars)).toBe(12);
    expect(render('{{ iteration }}', vars)).toBe(12);
    expect(render('{{user}}', vars)).toBe('u-7');
  });

  it('variables inside text are substituted as text', () => {
    expect(render('loadtest-{{run}}-{{iteration}}', vars)).toBe('loadtest-r1-12');
    expect(render('/api/v1/audit?user_id={{user}}&page_size=50', vars)).toBe('/api/v1/audit?user_id=u-7&page_size=50');
  });

  it('renders nested objects and arrays, leaving non-strings alone', () => {
    const t = { a: ['{{user}}', 3, true, null], b: { c: 'x-{{iteration}}', d: '{{iteration}}' } };
    expect(render(t, vars)).toEqual({ a: ['u-7', 3, true, null], b: { c: 'x-12', d: 12 } });
  });

  it('an unknown variable throws, naming it (whole-string and embedded)', () => {
    expect(() => render('{{nope}}', vars)).toThrow(/unknown template variable \{\{nope\}\}/);
    expect(() => render('x-{{nope}}-y', vars)).toThrow(/\{\{nope\}\}/);
    expect(() => render({ deep: ['{{missing}}'] }, vars)).toThrow(/\{\{missing\}\}/);
  });
});
