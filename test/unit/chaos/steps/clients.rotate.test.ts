// clients.rotate: the drill's load starts sending another token (one an overlap step minted, or
// one the profile names). It changes nothing on the target, so it journals nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DrillLoad } from '../../../../src/chaos/load.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { fakeTarget, runStep, startFleet, stepContext, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
beforeEach(() => fleet.reset());

function loadStandIn(): DrillLoad {
  return { active: true, tokenBox: { current: 'gateway', values: new Map(Object.entries(TOKENS)) } } as unknown as DrillLoad;
}

describe('clients.rotate', () => {
  it('moves the load to a token an overlap step minted', async () => {
    const load = loadStandIn();
    const r = stepContext(fleet, fakeTarget(fleet), { load });
    await runStep({ 'tokens.overlap': { token: 'next' } }, r.ctx);
    fleet.calls.length = 0;
    r.events.length = 0;
    await runStep({ 'clients.rotate': { token: 'next' } }, r.ctx);
    expect(load.tokenBox.current).toBe('next');
    expect(load.tokenBox.values.get('next')).toBe(r.ctx.tokens.get('next'));
    expect(r.events).toEqual([{ label: 'clients follow the rotation: they send next now', kind: 'fault' }]);
    expect(fleet.calls).toEqual([]);
    expect(r.journal.snapshot.entries).toHaveLength(1); // the overlap's only
  });

  it("moves the load to one of the profile's own tokens", async () => {
    const load = loadStandIn();
    const r = stepContext(fleet, fakeTarget(fleet), { load });
    await runStep({ 'clients.rotate': { token: 'secondary' } }, r.ctx);
    expect(load.tokenBox.current).toBe('secondary');
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.beforeRollback).toEqual([]);
  });

  it('without a load it only says so on the timeline', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await runStep({ 'clients.rotate': { token: 'gateway' } }, r.ctx);
    expect(r.events).toEqual([{ label: 'clients follow the rotation: they send gateway now', kind: 'fault' }]);
    expect(fleet.calls).toEqual([]);
  });

  it('a token neither minted nor in the profile is refused and the clients stay where they are', async () => {
    const load = loadStandIn();
    const r = stepContext(fleet, fakeTarget(fleet), { load });
    await expect(runStep({ 'clients.rotate': { token: 'nxet' } }, r.ctx)).rejects.toThrow(/tokens\.nxet: required by this drill/);
    expect(load.tokenBox.current).toBe('gateway');
    expect(r.events).toEqual([]);
    expect(StepSchema.safeParse({ 'clients.rotate': { token: 'a b' } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'clients.rotate': {} }).success).toBe(false);
  });
});
