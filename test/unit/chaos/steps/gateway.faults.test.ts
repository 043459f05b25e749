// gateway.faults: each named gateway's fault controls are set through PUT /admin/faults, each
// journalled (before the change) with the values the patched fields had, and rollback puts
// exactly those back.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import gatewayFaults from '../../../../src/chaos/steps/gateway-faults.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { fakeTarget, runStep, startFleet, stepContext, TOKENS, type Fleet } from './fake-target.ts';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ gateways: [{ name: 'gw-1' }, { name: 'gw-2' }, { name: 'gw-3' }] });
});
afterAll(() => fleet.close());
beforeEach(() => fleet.reset());

describe('gateway.faults', () => {
  it('patches the named gateways only, journals the fields it changed with their old values, and rollback restores them', async () => {
    const t = fakeTarget(fleet);
    const before = fleet.snapshot();
    const r = stepContext(fleet, t, { id: 'slow' });
    await runStep({ id: 'slow', 'gateway.faults': { gateways: ['gw-1', 'gw-3'], patch: { latencyMs: 250, degraded: true } } }, r.ctx);

    expect(fleet.gw('gw-1').state.faults).toMatchObject({ latencyMs: 250, degraded: true, errorRate: 0 });
    expect(fleet.gw('gw-3').state.faults).toMatchObject({ latencyMs: 250, degraded: true });
    expect(fleet.gw('gw-2').state).toEqual(before['gw-2']);
    expect(fleet.callsTo('gw-2')).toEqual([]);
    // Read, then write, with the admin bearer; the patch is sent as given.
    expect(fleet.callsTo('gw-1').map((c) => c.route)).toEqual(['GET /admin/faults', 'PUT /admin/faults']);
    expect(fleet.callsTo('gw-1', 'PUT /admin/faults')[0]?.body).toEqual({ latencyMs: 250, degraded: true });
    expect(fleet.calls.map((c) => c.auth)).toEqual(fleet.calls.map(() => `Bearer ${TOKENS.admin}`));
    // Write-ahead: when the PUT arrived its entry was on disk as an intent.
    expect(fleet.callsTo('gw-3', 'PUT /admin/faults')[0]?.journal).toEqual(['applied', 'intent']);

    expect(r.journal.snapshot.entries.map((e) => ({ step: e.step, state: e.state, undo: e.undo }))).toEqual([
      { step: 'slow', state: 'applied', undo: { kind: 'gateway.faults', gateway: 'gw-1', patch: { latencyMs: 0, degraded: false } } },
      { step: 'slow', state: 'applied', undo: { kind: 'gateway.faults', gateway: 'gw-3', patch: { latencyMs: 0, degraded: false } } },
    ]);
    expect(r.events).toEqual([{ label: 'gw-1, gw-3: faults {"latencyMs":250,"degraded":true}', kind: 'fault' }]);
    expect(r.figures).toEqual({});
    expect(r.thresholds).toEqual([]);

    const out = await rollback(r.journal, t);
    expect(out.ok).toBe(true);
    expect(fleet.snapshot()).toEqual(before);
    expect(r.journal.snapshot.entries.map((e) => e.state)).toEqual(['rolled-back', 'rolled-back']);
  });

  it('`all` is every gateway of the target; two changes in a row roll back to the first state, last first', async () => {
    const t = fakeTarget(fleet);
    const before = fleet.snapshot();
    const r = stepContext(fleet, t);
    await runStep({ 'gateway.faults': { gateways: 'all', patch: { diskUsedRatio: 0.8, skillHash: 'sha256:ffff' } } }, r.ctx);
    await runStep({ 'gateway.faults': { gateways: ['gw-2'], patch: { diskUsedRatio: 0.95, draining: true } } }, r.ctx);
    expect(fleet.gateways.map((g) => g.state.faults.skillHash)).toEqual(['sha256:ffff', 'sha256:ffff', 'sha256:ffff']);
    expect(fleet.gw('gw-2').state.faults).toMatchObject({ diskUsedRatio: 0.95, draining: true });
    // The second change remembers the first change's value, not the initial one.
    expect(r.journal.snapshot.entries.at(-1)?.undo).toEqual({ kind: 'gateway.faults', gateway: 'gw-2', patch: { diskUsedRatio: 0.8, draining: false } });
    await rollback(r.journal, t);
    expect(fleet.snapshot()).toEqual(before);
    const puts = fleet.callsTo('gw-2', 'PUT /admin/faults').map((c) => c.body);
    expect(puts.slice(-2)).toEqual([{ diskUsedRatio: 0.8, draining: false }, { diskUsedRatio: 0.42, skillHash: 'sha256:0a1b2c3d' }]);
  });

  it('a gateway refusing the change: its entry is failed, the step fails, and rollback still undoes what the others took', async () => {
    const t = fakeTarget(fleet);
    const before = fleet.snapshot();
    fleet.refuse('gw-2', 'PUT /admin/faults', 503);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'gateway.faults': { gateways: 'all', patch: { errorRate: 0.5 } } }, r.ctx)).rejects.toThrow(/PUT http:\/\/127\.0\.0\.1:\d+\/admin\/faults: HTTP 503/);
    expect(r.journal.snapshot.entries.map((e) => `${e.undo.kind === 'gateway.faults' ? e.undo.gateway : '?'} ${e.state}`)).toEqual(['gw-1 applied', 'gw-2 failed']);
    expect(r.journal.snapshot.entries[1]?.error).toMatch(/HTTP 503/);
    expect(fleet.gw('gw-1').state.faults.errorRate).toBe(0.5);
    expect(fleet.gw('gw-3').state.faults.errorRate).toBe(0);
    expect(r.events).toEqual([]);
    await rollback(r.journal, t);
    expect(fleet.snapshot()).toEqual(before);
  });

  it('an unknown gateway is refused before anything is read or changed; preflight sees the names', async () => {
    const t = fakeTarget(fleet);
    const r = stepContext(fleet, t);
    await expect(runStep({ 'gateway.faults': { gateways: ['gw-9'], patch: { latencyMs: 1 } } }, r.ctx)).rejects.toThrow(/no gateway "gw-9" \(has gw-1, gw-2, gw-3\)/);
    expect(fleet.calls).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
    const names = fleet.gateways.map((g) => g.name);
    expect(gatewayFaults.refs?.(gatewayFaults.schema.parse({ gateways: ['gw-1', 'gw-9'], patch: {} }), names)).toEqual([
      { field: 'gateways', kind: 'gateway', name: 'gw-1' },
      { field: 'gateways', kind: 'gateway', name: 'gw-9' },
    ]);
    expect(gatewayFaults.refs?.(gatewayFaults.schema.parse({ gateways: 'all', patch: {} }), names)).toEqual([]);
  });

  it('the schema refuses out-of-range values and unknown fields', () => {
    expect(StepSchema.safeParse({ 'gateway.faults': { gateways: 'all', patch: { errorRate: 1.5 } } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.faults': { gateways: 'all', patch: { latencyMs: 60_001 } } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.faults': { gateways: 'all', patch: { explode: true } } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.faults': { gateways: [], patch: {} } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'gateway.faults': { gateways: 'all', patch: { skillHash: 'abc' } } }).success).toBe(false);
  });
});
