// Rollback against the fake target of the step tests (in-process gateways and notifier with
// state): last change first, retried, failures kept in the journal for a later `drill rollback`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../../src/faults/journal.ts';
import { rollback } from '../../../src/faults/rollback.ts';
import { fakeTarget, startFleet, TOKENS, type Fleet } from './steps/fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());
beforeEach(() => fleet.reset());

const journal = () => Journal.create({ file: fleet.journalFile, id: 'j', drill: 'd', target: { kind: 'profile', file: '/stub.yaml' } });

describe('rollback', () => {
  it('undoes every change last-first, with the token values read at undo time', async () => {
    const t = fakeTarget(fleet);
    // What the drill had changed.
    fleet.gw('gw-2').state.faults.latencyMs = 300;
    for (const g of fleet.gateways) g.state.tokens = [TOKENS.secondary];
    fleet.gw('gw-1').state.hooks.queueLimit = 10;
    fleet.notifier.settings.windowMs = 1_000;
    const before = fleet.snapshot();
    const notifierBefore = structuredClone(fleet.notifier.settings);

    const j = journal();
    const a = j.intent('slow', 'gw-2 latency', { kind: 'gateway.faults', gateway: 'gw-2', patch: { latencyMs: 0 } });
    j.mark(a, 'applied');
    const b = j.intent('overlap', 'tokens', { kind: 'gateway.tokens', gateways: ['gw-1', 'gw-2'], tokens: ['gateway'] });
    j.mark(b, 'applied');
    j.intent('admission', 'hooks', { kind: 'hooks.admission', gateway: 'gw-1', settings: { queueLimit: 100_000 } });
    j.intent('window', 'notifier', { kind: 'notifier.config', url: fleet.notifier.url, settings: { windowMs: 60_000 } });
    const out = await rollback(j, t);

    expect(out.ok).toBe(true);
    expect(out.undone).toHaveLength(4);
    expect(fleet.calls.map((c) => c.route)).toEqual(['PUT /admin/config', 'PUT /admin/hooks', 'PUT /admin/tokens', 'PUT /admin/tokens', 'PUT /admin/faults']);
    expect(fleet.calls.map((c) => c.to).slice(2, 4).sort()).toEqual(['gw-1', 'gw-2']);
    expect(fleet.calls.every((c) => c.auth === `Bearer ${TOKENS.admin}`)).toBe(true);
    expect(fleet.calls[2]?.body).toEqual({ gateway: [TOKENS.gateway] });
    expect(fleet.calls[4]?.body).toEqual({ latencyMs: 0 });
    // The state behind the calls: each field put back, nothing else touched.
    expect(fleet.gw('gw-2').state.faults).toEqual({ ...before['gw-2']!.faults, latencyMs: 0 });
    for (const g of fleet.gateways) expect(g.state.tokens).toEqual([TOKENS.gateway]);
    expect(fleet.gw('gw-1').state.hooks).toEqual({ ...before['gw-1']!.hooks, queueLimit: 100_000 });
    expect(fleet.notifier.settings).toEqual({ ...notifierBefore, windowMs: 60_000 });

    const after = readJournal(j.file);
    expect(after.status).toBe('rolled-back');
    expect(after.entries.every((e) => e.state === 'rolled-back')).toBe(true);
    // A second rollback has nothing left to do.
    fleet.calls.length = 0;
    expect((await rollback(Journal.open(j.file), t)).undone).toHaveLength(0);
    expect(fleet.calls).toHaveLength(0);
  });

  it('retries a failing undo, and keeps what still fails for `drill rollback`', async () => {
    const t = fakeTarget(fleet);
    fleet.gw('gw-1').state.faults.latencyMs = 300;
    const j = journal();
    j.intent('slow', 'gw-1 latency', { kind: 'gateway.faults', gateway: 'gw-1', patch: { latencyMs: 0 } });
    // No HAProxy runtime API on this target: that undo cannot succeed.
    j.intent('drain', 'canary', { kind: 'lb.state', server: 'gw-2', state: 'ready' });
    fleet.refuse('gw-1', 'PUT /admin/faults', 503);
    const out = await rollback(j, t);
    expect(out.ok).toBe(false);
    expect(out.undone).toHaveLength(1);
    expect(out.failed[0]).toMatch(/drain: canary: .*HAProxy runtime API/);
    // Refused once, then taken.
    expect(fleet.callsTo('gw-1', 'PUT /admin/faults')).toHaveLength(2);
    expect(fleet.gw('gw-1').state.faults.latencyMs).toBe(0);
    const after = readJournal(j.file);
    expect(after.status).toBe('rollback-failed');
    expect(after.entries.find((e) => e.step === 'drain')?.state).toBe('rollback-failed');
    expect(after.entries.find((e) => e.step === 'slow')?.state).toBe('rolled-back');
    expect(Journal.open(j.file).pending().map((e) => e.step)).toEqual(['drain']);
  });
});
