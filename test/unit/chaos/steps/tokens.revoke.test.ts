// tokens.revoke: every gateway accepts the kept token only (the old one is revoked); the journal
// restores the profile's primary, so after rollback the primary works and the kept one does not.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { fakeTarget, runStep, startFleet, stepContext, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
beforeEach(() => fleet.reset());

/** What a gateway answers work sent with this bearer. */
async function statusWith(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/tools/invoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
  await res.body?.cancel();
  return res.status;
}

describe('tokens.revoke', () => {
  it('after an overlap, leaves the kept token as the only one accepted; rollback brings back the primary alone', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ id: 'overlap', 'tokens.overlap': { token: 'next' } }, { ...r.ctx, id: 'overlap' });
    const next = r.ctx.tokens.get('next');
    fleet.calls.length = 0;
    r.events.length = 0;

    await runStep({ id: 'revoke', 'tokens.revoke': { keep: 'next' } }, { ...r.ctx, id: 'revoke' });
    for (const g of fleet.gateways) {
      expect(g.state.tokens, g.name).toEqual([next]);
      expect(await statusWith(g.url, TOKENS.gateway), `${g.name} primary`).toBe(401);
      expect(await statusWith(g.url, next), `${g.name} next`).toBe(200);
    }
    expect(fleet.callsTo('gw-1', 'PUT /admin/tokens').map((c) => c.body)).toEqual([{ gateway: [next] }]);
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.action, e.state, e.undo])).toEqual([
      ['overlap', 'gw-1, gw-2 accept gateway + next (overlap)', 'applied', { kind: 'gateway.tokens', gateways: ['gw-1', 'gw-2'], tokens: ['gateway'] }],
      ['revoke', 'gw-1, gw-2 accept next only (old token revoked)', 'applied', { kind: 'gateway.tokens', gateways: ['gw-1', 'gw-2'], tokens: ['gateway'] }],
    ]);
    expect(r.events).toEqual([{ label: 'revoked: every gateway accepts next only', kind: 'fault' }]);

    expect((await rollback(r.journal, t)).ok).toBe(true);
    for (const g of fleet.gateways) {
      expect(await statusWith(g.url, TOKENS.gateway), `${g.name} primary after rollback`).toBe(200);
      expect(await statusWith(g.url, next), `${g.name} next after rollback`).toBe(401);
    }
  });

  it("keeping one of the profile's tokens works without an overlap step", async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await runStep({ 'tokens.revoke': { keep: 'secondary' } }, r.ctx);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.secondary]);
    await rollback(r.journal, t);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway]);
  });

  it('an unknown token to keep is refused before any gateway is touched', async () => {
    const r = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'tokens.revoke': { keep: 'next' } }, r.ctx)).rejects.toThrow(/tokens\.next: required by this drill/);
    expect(fleet.calls).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(fleet.gw('gw-1').state.tokens).toEqual([TOKENS.gateway]);
  });

  it('a gateway refusing the revocation fails the step; rollback restores the primary everywhere', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    fleet.refuse('gw-1', 'PUT /admin/tokens', 401);
    await expect(runStep({ 'tokens.revoke': { keep: 'secondary' } }, r.ctx)).rejects.toThrow(/HTTP 401/);
    expect(r.journal.snapshot.entries.map((e) => e.state)).toEqual(['failed']);
    expect(fleet.gw('gw-2').state.tokens).toEqual([TOKENS.secondary]);
    await rollback(r.journal, t);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway]);
  });

  it('the schema wants a token name under keep', () => {
    expect(StepSchema.safeParse({ 'tokens.revoke': { token: 'next' } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'tokens.revoke': { keep: '' } }).success).toBe(false);
  });
});
