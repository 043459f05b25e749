// A storm's gateway-5xx figure comes from Prometheus; an answer that is not a measurement (NaN,
// +Inf, no series, an error) is no data (null), never a number in the storm's results — a NaN
// there once failed the results validation and lost the whole run.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gateway5xx } from '../../../src/storm/server-errors.ts';
import { fakeTarget, startFakeProm, startFleet, type FakeProm, type Fleet, type PromAnswer } from '../chaos/steps/fake-target.ts';

let fleet: Fleet;
let prom: FakeProm | undefined;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
afterEach(async () => {
  await prom?.close();
  prom = undefined;
});

async function fiveXx(answer: PromAnswer): Promise<number | null> {
  prom = await startFakeProm(() => answer);
  return gateway5xx(fakeTarget(fleet, { prom }), 5_000);
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
