// A hypothesis probe on PromQL reads Prometheus's answer by the same rule as every other reader
// (src/prom/read.ts): each series must be a measurement. One gateway answering NaN or +Inf beside
// healthy ones is no data with why, never a pass on the healthy series alone.
import { describe, expect, it } from 'vitest';
import { checkProbe } from '../../../src/chaos/hypothesis.ts';
import type { Probe } from '../../../src/chaos/schema.ts';
import { targetWithScriptedProm, type PromAnswer } from './steps/fake-target.ts';

const Q = 'sum by (instance) (rate(openclaw_http_request_duration_seconds_count{job="gateway",status_class="5xx"}[5s]))';
const probe: Probe = { name: '5xx per gateway', phases: ['before', 'during', 'after'], tolerance: 0, promql: { query: Q, op: '<', value: 1 } };

const bed = targetWithScriptedProm();

async function check(answer: PromAnswer) {
  const { target } = await bed.answering(answer);
  return checkProbe(probe, target, undefined);
}

describe('hypothesis: a PromQL probe', () => {
  it.each([
    ['one NaN series beside healthy ones', [0, Number.NaN, 0], /1 of 3 series answered NaN/],
    ['+Inf (a division by zero)', [Number.POSITIVE_INFINITY], /1 of 1 series answered \+Inf/],
    ['no series', [], /no series \(an absent series is not a zero\)/],
    ['a query error', { error: 'parse error at char 4' }, /parse error at char 4/],
  ] as const)('%s: no data with the reason', async (_what, answer, reason) => {
    const c = await check(answer as PromAnswer);
    expect(c.ok, c.detail).toBeNull();
    expect(c.observed).toBeNull();
    expect(c.detail).toMatch(reason);
  });

  it('every series measured: judged on the worst one', async () => {
    const pass = await check([0, 0.5, 0.2]);
    expect(pass, pass.detail).toMatchObject({ ok: true, observed: 0.5 });
    const fail = await check([0, 3, 0.2]);
    expect(fail, fail.detail).toMatchObject({ ok: false, observed: 3 });
  });
});
