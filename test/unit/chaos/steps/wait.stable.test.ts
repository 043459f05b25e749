// wait.stable: poll PromQL until every query stays within its tolerance of its previous reading
// for N intervals in a row. Prometheus here is a scripted /api/v1/query (the answers come by call
// count, so no outcome depends on timing); what is under test is the step's judging: the first
// reading is a baseline, a move resets the streak, no data / NaN / below-minimum / a query error
// are Error measurements (never a pass), and the wait ends at its timeout or when aborted.
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { fakeTarget, startFakeProm, startFleet, stepContext, runStep, type FakeProm, type Fleet, type PromAnswer } from './fake-target.ts';

const OK = 'sum(rate(openclaw_tool_invocations_total{job="gateway",outcome="ok"}[5s]))';
const AUTH = 'sum(increase(openclaw_auth_failures_total{job="gateway",surface="tools"}[2s])) or vector(0)';
/** Short intervals: the count of readings decides every case here, not the clock. */
const INTERVAL = 25;

let fleet: Fleet;
let prom: FakeProm | undefined;
let script: Record<string, PromAnswer[]> = {};
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
afterEach(async () => {
  await prom?.close();
  prom = undefined;
});

/** Answers per query in order; the last one repeats. */
async function scripted(answers: Record<string, PromAnswer[]>, onQuery?: (q: string, n: number) => void) {
  script = answers;
  prom = await startFakeProm((q, n) => {
    onQuery?.(q, n);
    const list = script[q] ?? [];
    return list[Math.min(n, list.length - 1)] ?? { error: `unscripted query ${q}` };
  });
  return fakeTarget(fleet, { prom });
}

const step = (over: Record<string, unknown> = {}, queries?: unknown[]) => ({
  id: 'flat',
  'wait.stable': {
    queries: queries ?? [
      { name: 'tool successes/s', query: OK, tolerance: 0.25, min: 0.001 },
      { name: 'auth failures', query: AUTH, tolerance: 0 },
    ],
    interval: INTERVAL,
    intervals: 2,
    timeout: '10s',
    ...over,
  },
});
const count = (q: string) => prom?.queries.filter((x) => x === q).length ?? 0;

describe('wait.stable', () => {
  it('passes after a baseline and two flat readings; the threshold says how long it waited', async () => {
    const t = await scripted({ [OK]: [[60, 40], [62, 48], [58, 47]], [AUTH]: [[0]] });
    const r = stepContext(fleet, t, { id: 'flat', label: 'success metrics flat' });
    await runStep(step(), r.ctx);
    // Three readings of each query: baseline, flat, flat. The series of a vector are summed.
    expect([count(OK), count(AUTH)]).toEqual([3, 3]);
    expect(r.thresholds).toEqual([
      {
        name: 'success metrics flat',
        source: 'promql',
        expr: 'tool successes/s and auth failures flat (±25%/0%) for 2 × 0.025s',
        observed: 2,
        verdict: 'pass',
        detail: expect.stringMatching(/^flat for 2 polling intervals after \d+\.\d s \(2 successful measurement\(s\) in a row; last: flat: tool successes\/s 105\.000, auth failures 0\.000\)$/),
      },
    ]);
    const waited = r.figures['flat.waited_ms'];
    expect(typeof waited === 'number' && waited >= 2 * INTERVAL).toBe(true);
    expect(r.events).toEqual([{ label: expect.stringMatching(/^success metrics flat: flat for 2 polling intervals/), kind: 'measure' }]);
    expect(r.journal.snapshot.entries).toEqual([]);
  });

  it('a reading that moves beyond its tolerance starts the streak again', async () => {
    const t = await scripted({ [OK]: [[100], [200], [201], [202]], [AUTH]: [[0]] });
    const r = stepContext(fleet, t, { id: 'flat' });
    await runStep(step(), r.ctx);
    expect(count(OK)).toBe(4);
    expect(r.thresholds[0]?.verdict).toBe('pass');
  });

  it('a zero stays flat only at zero (tolerance 0 on auth failures)', async () => {
    const t = await scripted({ [OK]: [[100]], [AUTH]: [[0], [1], [1], [1]] });
    const r = stepContext(fleet, t, { id: 'flat' });
    await runStep(step(), r.ctx);
    // 0 → 1 moved; 1 → 1 → 1 flat twice.
    expect(count(AUTH)).toBe(4);
    expect(r.thresholds[0]?.verdict).toBe('pass');
  });

  it('no data breaks the streak (a fresh baseline is needed after it) and is never a pass', async () => {
    const t = await scripted({ [OK]: [[100], [100], [], [100], [100], [100]], [AUTH]: [[0]] });
    const r = stepContext(fleet, t, { id: 'flat' });
    await runStep(step(), r.ctx);
    // baseline, flat, no data, baseline, flat, flat.
    expect(count(OK)).toBe(6);
    // The query after an empty one is not asked in that round.
    expect(count(AUTH)).toBe(5);
    expect(r.thresholds[0]?.verdict).toBe('pass');
  });

  it.each([
    ['an empty vector', [] as number[], /tool successes\/s: no data — no series \(an absent series is not a zero\)/],
    ['NaN', [Number.NaN], /tool successes\/s: no data — 1 of 1 series answered NaN/],
    ['+Inf (a division by zero)', [Number.POSITIVE_INFINITY], /tool successes\/s: no data — 1 of 1 series answered \+Inf/],
    ['one healthy series beside a NaN one', [5, Number.NaN], /tool successes\/s: no data — 1 of 2 series answered NaN/],
    ['a reading below its minimum (no traffic)', [0], /tool successes\/s 0\.000 below its minimum 0\.001: not enough traffic to judge/],
    ['a query error', { error: 'parse error at char 4' }, /PromQL error \(bad_data\).*parse error at char 4/],
  ] as const)('%s every time: the wait ends as no data and the step fails', async (_what, answer, detail) => {
    const t = await scripted({ [OK]: [answer], [AUTH]: [[0]] });
    const r = stepContext(fleet, t, { id: 'flat' });
    await expect(runStep(step(), r.ctx)).rejects.toThrow(detail);
    // Five errors in a row end it (Argo's consecutiveErrorLimit 4), long before the timeout.
    expect(count(OK)).toBe(5);
    expect(count(AUTH)).toBe(0);
    expect(r.thresholds).toEqual([expect.objectContaining({ verdict: 'no_data', observed: 0, detail: expect.stringMatching(/^5 errors in a row > consecutiveErrorLimit 4; last: /) })]);
    expect(r.events).toEqual([]);
  });

  it('no Prometheus on the target: no data, not a pass', async () => {
    const t = fakeTarget(fleet);
    expect(t.prom).toBeUndefined();
    const r = stepContext(fleet, t, { id: 'flat' });
    await expect(runStep(step(), r.ctx)).rejects.toThrow(/no Prometheus for this target/);
    expect(r.thresholds[0]?.verdict).toBe('no_data');
  });

  it('metrics that never settle fail at the timeout, after at most timeout / interval + 1 readings', async () => {
    const t = await scripted({ [OK]: Array.from({ length: 40 }, (_, i) => [2 ** i]), [AUTH]: [[0]] });
    const r = stepContext(fleet, t, { id: 'flat', label: 'flat' });
    await expect(runStep(step({ timeout: 6 * INTERVAL }), r.ctx)).rejects.toThrow(/^flat: .*2 successful/);
    expect(count(OK)).toBeGreaterThanOrEqual(2);
    expect(count(OK)).toBeLessThanOrEqual(7);
    expect(r.thresholds).toEqual([expect.objectContaining({ verdict: 'fail', observed: 0 })]);
    const waited = r.figures['flat.waited_ms'];
    expect(typeof waited === 'number' && waited >= 5 * INTERVAL).toBe(true);
  });

  it('an aborted drill ends the wait at once (mid-interval), as no data', async () => {
    let abort = () => {};
    const t = await scripted({ [OK]: [[100]], [AUTH]: [[0]] }, (q, n) => {
      // Ctrl-C shortly after the baseline, while the step waits out its 2 s interval.
      if (q === AUTH && n === 0) setTimeout(() => abort(), 50);
    });
    const r = stepContext(fleet, t, { id: 'flat' });
    abort = r.abort;
    await expect(runStep(step({ interval: '2s', timeout: '10m' }), r.ctx)).rejects.toThrow(/aborted/);
    expect(count(OK)).toBe(1);
    expect(r.thresholds).toEqual([expect.objectContaining({ verdict: 'no_data', detail: expect.stringMatching(/^aborted before 2 successful/) })]);
    // It did not sit out the interval, let alone the 10 min timeout.
    const waited = r.figures['flat.waited_ms'];
    expect(typeof waited === 'number' && waited < 2_000, `waited ${waited} ms`).toBe(true);
  });

  it('the schema wants queries (valid PromQL), an interval and a timeout', () => {
    const ok = { queries: [{ name: 'q', query: OK }], interval: '1s', timeout: '10s' };
    expect(StepSchema.parse({ 'wait.stable': ok })).toEqual({ 'wait.stable': { queries: [{ name: 'q', query: OK, tolerance: 0.25 }], interval: 1_000, intervals: 2, timeout: 10_000 } });
    for (const bad of [
      { ...ok, queries: [] },
      { ...ok, queries: [{ name: 'q', query: 'sum(rate(x[1m])' }] },
      { ...ok, queries: [{ name: 'q', query: OK, tolerance: -0.1 }] },
      { ...ok, intervals: 0 },
      { queries: ok.queries, timeout: '10s' },
      { queries: ok.queries, interval: '1s' },
    ]) {
      expect(StepSchema.safeParse({ 'wait.stable': bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
