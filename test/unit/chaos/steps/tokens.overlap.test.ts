// tokens.overlap: a token is minted and every gateway accepts it beside the primary; the journal
// restores the profile's primary (by name: no secret in the journal), and before that rollback
// the clients that followed the rotation move back over a short overlap.
import fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DrillLoad } from '../../../../src/chaos/load.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { redact } from '../../../../src/util/redact.ts';
import { fakeTarget, runStep, startFleet, stepContext, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
beforeEach(() => fleet.reset());

/** What the rollback hooks read of the drill's load: whether it runs, and the clients' token box. */
function loadStandIn(active = true): DrillLoad {
  return { active, tokenBox: { current: 'gateway', values: new Map(Object.entries(TOKENS)) } } as unknown as DrillLoad;
}

const noSleep = async () => true;

describe('tokens.overlap', () => {
  it('mints a token every gateway accepts beside the primary; the journal names the primary, and rollback restores it alone', async () => {
    const t = fakeTarget(fleet);
    const load = loadStandIn();
    const r = stepContext(fleet, t, { id: 'overlap', load });
    await runStep({ id: 'overlap', 'tokens.overlap': { token: 'next' } }, r.ctx);

    const minted = r.ctx.tokens.get('next');
    expect(minted).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(minted).not.toBe(TOKENS.gateway);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway, minted]);
    expect(fleet.calls.map((c) => `${c.to} ${c.route}`).sort()).toEqual(['gw-1 PUT /admin/tokens', 'gw-2 PUT /admin/tokens']);
    expect(fleet.calls.every((c) => c.journal?.join() === 'intent')).toBe(true);
    // The load's clients may now send it; they still send the primary.
    expect(load.tokenBox.values.get('next')).toBe(minted);
    expect(load.tokenBox.current).toBe('gateway');

    expect(r.journal.snapshot.entries.map((e) => [e.action, e.state, e.undo])).toEqual([
      ['gw-1, gw-2 accept gateway + next (overlap)', 'applied', { kind: 'gateway.tokens', gateways: ['gw-1', 'gw-2'], tokens: ['gateway'] }],
    ]);
    // No token value on disk or in the timeline; the minted one is redacted like the profile's.
    const onDisk = fs.readFileSync(r.journal.file, 'utf8');
    expect(onDisk).not.toContain(minted);
    expect(onDisk).not.toContain(TOKENS.gateway);
    expect(redact(`Bearer ${minted}`)).not.toContain(minted);
    expect(r.events).toEqual([{ label: 'overlap: every gateway accepts the primary and next', kind: 'fault' }]);
    expect(r.beforeRollback).toHaveLength(1);

    expect((await rollback(r.journal, t)).ok).toBe(true);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway]);
  });

  it('before the rollback, clients on the new token move back to the primary while both are still accepted', async () => {
    const t = fakeTarget(fleet);
    const load = loadStandIn();
    const r = stepContext(fleet, t, { load, sleep: noSleep });
    await runStep({ 'tokens.overlap': { token: 'next' } }, r.ctx);
    const minted = r.ctx.tokens.get('next');
    await runStep({ 'clients.rotate': { token: 'next' } }, r.ctx);
    await runStep({ 'tokens.revoke': { keep: 'next' } }, r.ctx);
    expect(fleet.gw('gw-1').state.tokens).toEqual([minted]);
    fleet.calls.length = 0;
    r.events.length = 0;

    for (const fn of r.beforeRollback) await fn();
    // Both accepted again, then the clients moved, then they had the grace to finish in flight.
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway, minted]);
    expect(load.tokenBox.current).toBe('gateway');
    expect(r.sleeps).toEqual([1_500]);
    expect(r.events).toEqual([{ label: 'clients follow the rollback: back on the primary token', kind: 'phase' }]);

    await rollback(r.journal, t);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway]);
  });

  it('the rollback hook does nothing when the clients never moved or the load has stopped', async () => {
    const t = fakeTarget(fleet);
    for (const load of [loadStandIn(true), loadStandIn(false), undefined]) {
      const r = stepContext(fleet, t, { ...(load ? { load } : {}), sleep: noSleep });
      await runStep({ 'tokens.overlap': { token: 'next' } }, r.ctx);
      if (load && !load.active) load.tokenBox.current = 'next';
      fleet.calls.length = 0;
      for (const fn of r.beforeRollback) await fn();
      expect(fleet.calls).toEqual([]);
      expect(r.sleeps).toEqual([]);
      await rollback(r.journal, t);
    }
  });

  it('when a gateway refuses the tokens the step fails, and rollback restores the primary on every gateway', async () => {
    const t = fakeTarget(fleet);
    fleet.refuse('gw-2', 'PUT /admin/tokens', 500);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'tokens.overlap': { token: 'next' } }, r.ctx)).rejects.toThrow(/\/admin\/tokens: HTTP 500/);
    expect(r.journal.snapshot.entries.map((e) => e.state)).toEqual(['failed']);
    expect(r.beforeRollback).toEqual([]);
    expect(r.events).toEqual([]);
    expect(fleet.gw('gw-1').state.tokens).toHaveLength(2);
    await rollback(r.journal, t);
    for (const g of fleet.gateways) expect(g.state.tokens, g.name).toEqual([TOKENS.gateway]);
  });

  it('a rollback hook that cannot reach the gateways reports it on the timeline and does not throw', async () => {
    const t = fakeTarget(fleet);
    const load = loadStandIn();
    const r = stepContext(fleet, t, { load, sleep: noSleep });
    await runStep({ 'tokens.overlap': { token: 'next' } }, r.ctx);
    load.tokenBox.current = 'next';
    fleet.refuse('gw-1', 'PUT /admin/tokens', 503);
    r.events.length = 0;
    for (const fn of r.beforeRollback) await fn();
    expect(r.events).toEqual([{ label: expect.stringMatching(/^clients could not follow the rollback: PUT .*\/admin\/tokens: HTTP 503/), kind: 'error' }]);
    // They stay on the token that still works until the rollback itself.
    expect(load.tokenBox.current).toBe('next');
    await rollback(r.journal, t);
  });

  it('the token name must be a name', () => {
    for (const token of ['', '-x', 'a b', 'ü']) expect(StepSchema.safeParse({ 'tokens.overlap': { token } }).success, JSON.stringify(token)).toBe(false);
    expect(StepSchema.safeParse({ 'tokens.overlap': { token: 'next.v2_a-b' } }).success).toBe(true);
  });
});
