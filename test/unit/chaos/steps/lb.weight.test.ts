// lb.weight: a server's weight through a real HAProxy's runtime API, journalled with the weight
// it had, which rollback sets again.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import lbWeight from '../../../../src/chaos/steps/lb-weight.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { setWeight, showServersState } from '../../../../src/lb/runtime.ts';
import type { HaproxyInstance } from '../../../../harness/launch/haproxy.ts';
import { fakeTarget, runStep, startFakeLb, startFleet, stepContext, stopHaproxy, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let lb: HaproxyInstance;
beforeAll(async () => {
  fleet = await startFleet();
  lb = await startFakeLb(fleet);
});
afterAll(async () => {
  await stopHaproxy(lb);
  await fleet.close();
});
beforeEach(async () => {
  fleet.reset();
  for (const g of fleet.gateways) await setWeight(lb, g.name, 100);
});

const weights = async () => Object.fromEntries((await showServersState(lb)).map((s) => [s.name, s.weight]));

describe('lb.weight', () => {
  it('sets the weight in HAProxy, journals the one it had, and rollback sets that again', async () => {
    const t = fakeTarget(fleet, { lb });
    const r = stepContext(fleet, t, { id: 'canary-10' });
    await runStep({ id: 'canary-10', 'lb.weight': { server: 'gw-2', weight: 10 } }, r.ctx);
    expect(await weights()).toEqual({ 'gw-1': 100, 'gw-2': 10 });
    expect(r.journal.snapshot.entries.map((e) => [e.action, e.state, e.undo])).toEqual([['haproxy gw-2 weight 10', 'applied', { kind: 'lb.weight', server: 'gw-2', weight: 100 }]]);
    expect(r.events).toEqual([{ label: 'haproxy gw-2 weight → 10', kind: 'fault' }]);
    expect((await rollback(r.journal, t)).ok).toBe(true);
    expect(await weights()).toEqual({ 'gw-1': 100, 'gw-2': 100 });
  });

  it('a ramp (10 → 50 → 0) rolls back step by step to the configured weight', async () => {
    const t = fakeTarget(fleet, { lb });
    const r = stepContext(fleet, t);
    for (const w of [10, 50, 0]) await runStep({ 'lb.weight': { server: 'gw-1', weight: w } }, r.ctx);
    expect(await weights()).toEqual({ 'gw-1': 0, 'gw-2': 100 });
    expect(r.journal.snapshot.entries.map((e) => (e.undo.kind === 'lb.weight' ? e.undo.weight : -1))).toEqual([100, 10, 50]);
    const out = await rollback(r.journal, t);
    expect(out.undone).toEqual(['step-1: haproxy gw-1 weight 50', 'step-1: haproxy gw-1 weight 10', 'step-1: haproxy gw-1 weight 100']);
    expect(await weights()).toEqual({ 'gw-1': 100, 'gw-2': 100 });
  });

  it('an unknown server or a target without the runtime API is refused before anything changes', async () => {
    const r = stepContext(fleet, fakeTarget(fleet, { lb }));
    await expect(runStep({ 'lb.weight': { server: 'gw-9', weight: 1 } }, r.ctx)).rejects.toThrow(/no server "gw-9"/);
    const r2 = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'lb.weight': { server: 'gw-1', weight: 1 } }, r2.ctx)).rejects.toThrow(/HAProxy runtime API/);
    expect([...r.journal.snapshot.entries, ...r2.journal.snapshot.entries]).toEqual([]);
    expect(await weights()).toEqual({ 'gw-1': 100, 'gw-2': 100 });
  });

  it('the schema takes whole weights 0–256 only; refs name the server', () => {
    for (const weight of [-1, 257, 12.5, '10']) expect(StepSchema.safeParse({ 'lb.weight': { server: 'gw-1', weight } }).success, `weight ${weight}`).toBe(false);
    expect(StepSchema.safeParse({ 'lb.weight': { server: 'gw-1', weight: 256 } }).success).toBe(true);
    expect(lbWeight.refs?.(lbWeight.schema.parse({ server: 'gw-2', weight: 0 }), [])).toEqual([{ field: 'server', kind: 'server', name: 'gw-2' }]);
  });
});
