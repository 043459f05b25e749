// lb.state: a server's administrative state through a real HAProxy's runtime API (servers are the
// fake gateways), journalled with the state it had, which rollback sets again.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import lbState from '../../../../src/chaos/steps/lb-state.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { setState, showServersState } from '../../../../src/lb/runtime.ts';
import { fakeTarget, runStep, startFakeLb, startFleet, stepContext, stopHaproxy, type Fleet } from './fake-target.ts';
import type { HaproxyInstance } from '../../../../harness/launch/haproxy.ts';

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
  for (const g of fleet.gateways) await setState(lb, g.name, 'ready');
});

const adminStates = async () => Object.fromEntries((await showServersState(lb)).map((s) => [s.name, s.adminState]));

describe('lb.state', () => {
  it('drains a server in HAProxy, journals its previous state, and rollback makes it ready again', async () => {
    const t = fakeTarget(fleet, { lb });
    expect(await adminStates()).toEqual({ 'gw-1': 'ready', 'gw-2': 'ready' });
    const r = stepContext(fleet, t, { id: 'drain-2' });
    await runStep({ id: 'drain-2', 'lb.state': { server: 'gw-2', state: 'drain' } }, r.ctx);
    expect(await adminStates()).toEqual({ 'gw-1': 'ready', 'gw-2': 'drain' });
    expect((await showServersState(lb)).find((s) => s.name === 'gw-2')?.status).toMatch(/DRAIN/);
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.action, e.state, e.undo])).toEqual([['drain-2', 'haproxy gw-2 state drain', 'applied', { kind: 'lb.state', server: 'gw-2', state: 'ready' }]]);
    expect(r.events).toEqual([{ label: 'haproxy gw-2 → drain', kind: 'fault' }]);
    // Nothing went to the gateways' admin surface.
    expect(fleet.calls.filter((c) => c.route !== 'GET /keda/metrics')).toEqual([]);

    expect((await rollback(r.journal, t)).ok).toBe(true);
    expect(await adminStates()).toEqual({ 'gw-1': 'ready', 'gw-2': 'ready' });
  });

  it('maint over drain: rollback goes back through drain to ready, last change first', async () => {
    const t = fakeTarget(fleet, { lb });
    const r = stepContext(fleet, t);
    await runStep({ 'lb.state': { server: 'gw-1', state: 'drain' } }, r.ctx);
    await runStep({ 'lb.state': { server: 'gw-1', state: 'maint' } }, r.ctx);
    expect(await adminStates()).toEqual({ 'gw-1': 'maint', 'gw-2': 'ready' });
    expect(r.journal.snapshot.entries.map((e) => e.undo)).toEqual([
      { kind: 'lb.state', server: 'gw-1', state: 'ready' },
      { kind: 'lb.state', server: 'gw-1', state: 'drain' },
    ]);
    const out = await rollback(r.journal, t);
    expect(out.undone).toEqual(['step-1: haproxy gw-1 state drain', 'step-1: haproxy gw-1 state ready']);
    expect(await adminStates()).toEqual({ 'gw-1': 'ready', 'gw-2': 'ready' });
  });

  it('an unknown server is refused before anything changes; a target without the runtime API too', async () => {
    const r = stepContext(fleet, fakeTarget(fleet, { lb }));
    await expect(runStep({ 'lb.state': { server: 'gw-9', state: 'maint' } }, r.ctx)).rejects.toThrow(/load balancer: no server "gw-9" in backend be_gateways/);
    expect(r.journal.snapshot.entries).toEqual([]);
    const r2 = stepContext(fleet, fakeTarget(fleet));
    await expect(runStep({ 'lb.state': { server: 'gw-1', state: 'maint' } }, r2.ctx)).rejects.toThrow(/need the HAProxy runtime API/);
    expect(r2.journal.snapshot.entries).toEqual([]);
    expect(await adminStates()).toEqual({ 'gw-1': 'ready', 'gw-2': 'ready' });
    expect(r.events).toEqual([]);
  });

  it('refs name the server for preflight; the schema knows the three states only', () => {
    expect(lbState.refs?.(lbState.schema.parse({ server: 'gw-1', state: 'drain' }), [])).toEqual([{ field: 'server', kind: 'server', name: 'gw-1' }]);
    expect(StepSchema.safeParse({ 'lb.state': { server: 'gw-1', state: 'down' } }).success).toBe(false);
    expect(StepSchema.safeParse({ 'lb.state': { server: '', state: 'drain' } }).success).toBe(false);
  });
});
