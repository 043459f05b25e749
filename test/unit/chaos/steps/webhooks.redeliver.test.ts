// webhooks.redeliver: once the faulted gateway is back in rotation (a real HAProxy's view), a
// share of the keys it acknowledged before the fault goes out again — to it directly, to another
// replica, and through the load balancer — and every answer joins the drill's acknowledgements
// for the accounting. It only sends idempotent deliveries: nothing is journalled.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HaproxyInstance } from '../../../../harness/launch/haproxy.ts';
import type { DrillLoad } from '../../../../src/chaos/load.ts';
import { waitServerState } from '../../../../src/lb/runtime.ts';
import type { Acked } from '../../../../src/webhooks/acks.ts';
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
beforeEach(() => fleet.reset());

/** The drill load's side the step uses: its hook, its acknowledgements and the delivery body. */
function webhookLoad(acks: Acked[]): DrillLoad {
  return { hook: 'agent', acks, deliveryBody: (key: string) => ({ message: `drill delivery ${key}`, deliver: false }) } as unknown as DrillLoad;
}

const FAULT_AT = 1_000_000;
const acked = (key: string, gateway: string, at: number): Acked => ({ key, runId: `${gateway}-first-${key}`, gateway, sentAt: at - 5, at });

describe('webhooks.redeliver', () => {
  it('sends the chosen share of the keys the gateway acknowledged before the fault, three ways, and records every answer', async () => {
    const t = fakeTarget(fleet, { lb });
    const acks = [acked('k1', 'gw-1', FAULT_AT - 300), acked('k2', 'gw-1', FAULT_AT - 200), acked('k3', 'gw-2', FAULT_AT - 100), acked('k4', 'gw-1', FAULT_AT + 50)];
    const r = stepContext(fleet, t, { id: 'after-heal', load: webhookLoad(acks), marks: { 'take-out': FAULT_AT } });
    await runStep({ id: 'after-heal', 'webhooks.redeliver': { gateway: 'gw-1', before: 'take-out', share: 1, timeout: '20s' } }, r.ctx);
    // k1 and k2: gw-1's keys from before the fault (not k3, another gateway's; not k4, after it).
    expect(r.figures['after-heal.keys']).toBe(2);
    expect(r.figures['after-heal.sent']).toBe(6);
    expect(r.figures['after-heal.answered']).toBe(6);
    expect(r.figures['after-heal.not_aimed']).toBe(0);
    expect(typeof r.figures['after-heal.back_in_rotation_ms']).toBe('number');
    const hooks = fleet.calls.filter((c) => c.route === 'POST /hooks/agent');
    expect(hooks.map((c) => c.headers['idempotency-key']).sort()).toEqual(['k1', 'k1', 'k1', 'k2', 'k2', 'k2']);
    // Direct to gw-1, direct to gw-2 (the other replica), and one each through HAProxy.
    expect(hooks.filter((c) => c.to === 'gw-2').length).toBeGreaterThanOrEqual(2);
    const redelivered = acks.filter((a) => a.redelivery !== undefined);
    expect(redelivered.map((a) => a.redelivery!.aim).sort()).toEqual(['acknowledger', 'acknowledger', 'lb', 'lb', 'other-replica', 'other-replica']);
    expect(r.journal.snapshot.entries).toEqual([]);
  });

  it('refuses without a webhook load, or before the step it counts from has run', async () => {
    const t = fakeTarget(fleet, { lb });
    const none = stepContext(fleet, t, { marks: { 'take-out': FAULT_AT } });
    await expect(runStep({ 'webhooks.redeliver': { gateway: 'gw-1', before: 'take-out' } }, none.ctx)).rejects.toThrow(/needs the drill to run a webhook load/);
    const early = stepContext(fleet, t, { load: webhookLoad([]) });
    await expect(runStep({ 'webhooks.redeliver': { gateway: 'gw-1', before: 'take-out' } }, early.ctx)).rejects.toThrow(/step "take-out" has not run/);
    expect(fleet.calls.filter((c) => c.route === 'POST /hooks/agent')).toEqual([]);
  });

  it('a gateway that does not come back in time: its keys are not sent, and the step says why', async () => {
    const t = fakeTarget(fleet, { lb });
    // Draining answers 503 on the probe: HAProxy takes it out and it stays out.
    fleet.gateways[0]!.state.faults.draining = true;
    try {
      await waitServerState(lb, 'gw-1', 'DOWN', 15_000);
      const r = stepContext(fleet, t, { id: 'after-heal', load: webhookLoad([acked('k1', 'gw-1', FAULT_AT - 300)]), marks: { 'take-out': FAULT_AT } });
      await expect(runStep({ id: 'after-heal', 'webhooks.redeliver': { gateway: 'gw-1', before: 'take-out', timeout: '4s' } }, r.ctx)).rejects.toThrow(/gw-1 not back in rotation within 4 s/);
      expect(r.figures['after-heal.back_in_rotation_ms']).toBeNull();
      expect(fleet.calls.filter((c) => c.route === 'POST /hooks/agent')).toEqual([]);
    } finally {
      fleet.gateways[0]!.state.faults.draining = false;
      await waitServerState(lb, 'gw-1', 'UP', 15_000);
    }
  });
});
