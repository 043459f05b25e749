// disk.fill: each gateway's simulated disk set at a watermark of its own tier, read from its
// composite probe (gates in `detail`, else the 1 TB tier's), journalled with the ratio it had.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import diskFill from '../../../../src/chaos/steps/disk-fill.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { fakeTarget, runStep, startFleet, stepContext, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    gateways: [
      { name: 'gw-1', az: 'az-a' },
      { name: 'gw-2', az: 'az-b', capacityBytes: 2e12 },
      // Its probe is elsewhere; it reports no gates of its own (see below).
      { name: 'gw-3', az: 'az-c', capacityBytes: 2e12, probePath: '/probe/composite' },
    ],
  });
});
afterAll(() => fleet.close());
beforeEach(() => {
  fleet.reset();
  fleet.gw('gw-3').probe.detail = false;
});

const ratios = () => fleet.gateways.map((g) => g.state.faults.diskUsedRatio);

describe('disk.fill', () => {
  it('yellow puts each gateway at its own tier\'s gate; the probe gates decide, else the 1 TB tier; rollback restores the ratios', async () => {
    const t = fakeTarget(fleet);
    const before = fleet.snapshot();
    const r = stepContext(fleet, t, { id: 'yellow' });
    await runStep({ id: 'yellow', 'disk.fill': { gateways: 'all', level: 'yellow' } }, r.ctx);
    // gw-3 is a 2 TB disk, but its probe does not say so: it is judged at the 1 TB gate.
    expect(ratios()).toEqual([0.82, 0.78, 0.82]);
    expect(fleet.gateways.map((g) => g.compositeProbe().gateway)).toMatchObject([{ disk_ok: false }, { disk_ok: false }, { disk_ok: false }]);
    // The probe is read with the probe bearer, at the path the profile gives.
    expect(fleet.callsTo('gw-3').filter((c) => c.method === 'GET').map((c) => [c.route, c.auth])).toEqual([
      ['GET /probe/composite', `Bearer ${TOKENS.probe}`],
      ['GET /admin/faults', `Bearer ${TOKENS.admin}`],
    ]);
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.state, e.undo])).toEqual(
      ['gw-1', 'gw-2', 'gw-3'].map((g) => ['yellow', 'applied', { kind: 'gateway.faults', gateway: g, patch: { diskUsedRatio: 0.42 } }]),
    );
    expect(r.events).toEqual([{ label: 'disk used: gw-1 82% (yellow 82%, red 90%), gw-2 78% (yellow 78%, red 90%), gw-3 82% (yellow 82%, red 90%)', kind: 'fault' }]);
    expect((await rollback(r.journal, t)).ok).toBe(true);
    expect(fleet.snapshot()).toEqual(before);
  });

  it.each([
    ['below-yellow', [0.81, 0.77]],
    ['red', [0.9, 0.9]],
    [0.5, [0.5, 0.5]],
  ] as const)('level %s on the named gateways only', async (level, want) => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ 'disk.fill': { gateways: ['gw-1', 'gw-2'], level } }, r.ctx);
    expect(ratios()).toEqual([...want, 0.42]);
    expect(fleet.callsTo('gw-3')).toEqual([]);
    await rollback(r.journal, t);
    expect(ratios()).toEqual([0.42, 0.42, 0.42]);
  });

  it('a probe off its contract fails the step before anything is changed', async () => {
    fleet.gw('gw-2').probe.offContract = true;
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'disk.fill': { gateways: ['gw-2'], level: 'red' } }, r.ctx)).rejects.toThrow(/^gw-2: composite probe off contract: .*status/);
    expect(fleet.callsTo('gw-2', 'PUT /admin/faults')).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.events).toEqual([]);
  });

  it('a gateway refusing the change fails the step; what was changed before it is rolled back', async () => {
    const t = fakeTarget(fleet);
    fleet.refuse('gw-2', 'PUT /admin/faults', 500);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'disk.fill': { gateways: 'all', level: 'red' } }, r.ctx)).rejects.toThrow(/HTTP 500/);
    expect(r.journal.snapshot.entries.map((e) => e.state)).toEqual(['applied', 'failed']);
    expect(ratios()).toEqual([0.9, 0.42, 0.42]);
    await rollback(r.journal, t);
    expect(ratios()).toEqual([0.42, 0.42, 0.42]);
  });

  it('an unknown gateway is refused; refs and schema', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'disk.fill': { gateways: ['gw-4'], level: 'red' } }, r.ctx)).rejects.toThrow(/no gateway "gw-4"/);
    expect(fleet.calls).toEqual([]);
    expect(diskFill.refs?.(diskFill.schema.parse({ gateways: ['gw-4'], level: 0.1 }), [])).toEqual([{ field: 'gateways', kind: 'gateway', name: 'gw-4' }]);
    expect(diskFill.refs?.(diskFill.schema.parse({ gateways: 'all', level: 0.1 }), ['gw-1'])).toEqual([]);
    for (const level of ['orange', 1.2, -0.1]) expect(StepSchema.safeParse({ 'disk.fill': { gateways: 'all', level } }).success, String(level)).toBe(false);
  });
});
