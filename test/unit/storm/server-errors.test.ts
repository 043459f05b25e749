// A storm's gateway-5xx figure comes from Prometheus; an answer that is not a measurement (NaN,
// +Inf, no series, an error) is no data (null), never a number in the storm's results — a NaN
// there once failed the results validation and lost the whole run.
import { describe, expect, it } from 'vitest';
import { gateway5xx } from '../../../src/storm/server-errors.ts';
import { targetWithScriptedProm, type FakeProm, type PromAnswer } from '../chaos/steps/fake-target.ts';

const bed = targetWithScriptedProm();
let prom: FakeProm | undefined;

async function fiveXx(answer: PromAnswer): Promise<number | null> {
  const made = await bed.answering(answer);
  prom = made.prom;
  return gateway5xx(made.target, 5_000);
}

describe('storm: gateway 5xx from Prometheus', () => {
  it.each([
    ['NaN', [Number.NaN]],
    ['+Inf', [Number.POSITIVE_INFINITY]],
    ['no series', []],
    ['an error', { error: 'query timed out' }],
  ] as const)('%s → null (no data)', async (_what, answer) => {
    expect(await fiveXx(answer as PromAnswer)).toBeNull();
    expect(prom?.queries.length).toBe(1);
  });

  it('a measured count is rounded and summed over the series', async () => {
    expect(await fiveXx([2.4, 0.9])).toBe(3);
    expect(await fiveXx([0])).toBe(0);
  });
});
