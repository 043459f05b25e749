// watermark.enforce: every gateway's composite probe read, the disk watermark policy applied, its
// signals published as `<step id>.<figure>`; at the yellow gate one digest goes through the
// notifier, at the red gate the canary is drained in a real HAProxy (journalled).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HaproxyInstance } from '../../../../harness/launch/haproxy.ts';
import { StepSchema } from '../../../../src/chaos/steps/index.ts';
import watermarkEnforce from '../../../../src/chaos/steps/watermark-enforce.ts';
import { rollback } from '../../../../src/faults/rollback.ts';
import { setState, showServersState } from '../../../../src/lb/runtime.ts';
import { fakeTarget, runStep, startFakeLb, startFleet, stepContext, stopHaproxy, type Fleet } from './fake-target.ts';

let fleet: Fleet;
let lb: HaproxyInstance;
beforeAll(async () => {
  fleet = await startFleet({
    gateways: [
      { name: 'gw-1', az: 'az-a' },
      { name: 'gw-2', az: 'az-b' },
      { name: 'gw-3', az: 'az-c', capacityBytes: 2e12 },
    ],
  });
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

const adminState = async (server: string) => (await showServersState(lb)).find((s) => s.name === server)?.adminState;
const disk = (g: string, ratio: number) => void (fleet.gw(g).state.faults.diskUsedRatio = ratio);
const notifierCalls = () => fleet.callsTo('notifier').map((c) => c.route);

describe('watermark.enforce', () => {
  it('below every gate: level ok, nothing blocked, no digest, canary kept, nothing journalled', async () => {
    const r = stepContext(fleet, fakeTarget(fleet, { lb }), { id: 'below-gate' });
    await runStep({ id: 'below-gate', 'watermark.enforce': { canary: 'gw-3' } }, r.ctx);
    expect(r.figures).toEqual({
      'below-gate.level': 'ok',
      'below-gate.disk_used_gw-1': 0.42,
      'below-gate.disk_used_gw-2': 0.42,
      'below-gate.disk_used_gw-3': 0.42,
      'below-gate.yellow_gate_gw-1': 0.82,
      'below-gate.yellow_gate_gw-2': 0.82,
      'below-gate.yellow_gate_gw-3': 0.78,
      'below-gate.disk_ok_false': 0,
      'below-gate.disk_ok_true': 3,
      'below-gate.gateways': 3,
      'below-gate.scale_up_blocked': 0,
      'below-gate.stable_lane_only': 0,
      'below-gate.scale_to_min': 0,
      'below-gate.probe_inconsistent': 0,
      'below-gate.digest_published': 0,
      'below-gate.canary_drained': 0,
    });
    expect(notifierCalls()).toEqual([]);
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(r.events).toEqual([{ label: 'watermark ok: every disk below its yellow gate', kind: 'measure' }]);
    expect(await adminState('gw-3')).toBe('ready');
  });

  it('yellow: scale-up blocked, one digest carrying every gateway past its gate, canary kept', async () => {
    disk('gw-2', 0.83);
    disk('gw-3', 0.79); // past the 2 TB tier's 78%
    const r = stepContext(fleet, fakeTarget(fleet, { lb }), { id: 'yellow-gate' });
    await runStep({ id: 'yellow-gate', 'watermark.enforce': { canary: 'gw-3' } }, r.ctx);
    expect(r.figures).toMatchObject({
      'yellow-gate.level': 'yellow',
      'yellow-gate.disk_ok_false': 2,
      'yellow-gate.disk_ok_true': 1,
      'yellow-gate.scale_up_blocked': 1,
      'yellow-gate.stable_lane_only': 1,
      'yellow-gate.scale_to_min': 0,
      'yellow-gate.digest_published': 1,
      'yellow-gate.canary_drained': 0,
      'yellow-gate.probe_inconsistent': 0,
    });
    expect(notifierCalls()).toEqual(['POST /events', 'POST /flush']);
    expect(fleet.notifier.digests).toHaveLength(1);
    expect(fleet.callsTo('notifier', 'POST /events')[0]?.body).toEqual({
      events: [
        { status: 'disk-yellow', correlationId: 'run-1.yellow-gate.gw-2', az: 'az-b', gateway: 'gw-2', retryCount: 0, detail: 'disk 83% used, yellow gate 82%: scale-up blocked, stable lane only' },
        { status: 'disk-yellow', correlationId: 'run-1.yellow-gate.gw-3', az: 'az-c', gateway: 'gw-3', retryCount: 0, detail: 'disk 79% used, yellow gate 78%: scale-up blocked, stable lane only' },
      ],
    });
    expect(r.journal.snapshot.entries).toEqual([]);
    expect(await adminState('gw-3')).toBe('ready');
    expect(r.events.map((e) => e.label)).toEqual([
      'watermark yellow: gw-2: 83% used ≥ yellow gate 82% (disk_ok false); gw-3: 79% used ≥ yellow gate 78% (disk_ok false); scale-up blocked, stable lane only',
      'digest 1 published: 2× disk-yellow',
    ]);
  });

  it('red: scale to minimum and the canary drained in HAProxy, journalled; rollback makes it ready again', async () => {
    disk('gw-1', 0.9);
    const t = fakeTarget(fleet, { lb });
    const r = stepContext(fleet, t, { id: 'red-gate' });
    await runStep({ id: 'red-gate', 'watermark.enforce': { canary: 'gw-3' } }, r.ctx);
    expect(r.figures).toMatchObject({ 'red-gate.level': 'red', 'red-gate.scale_to_min': 1, 'red-gate.scale_up_blocked': 1, 'red-gate.digest_published': 1, 'red-gate.canary_drained': 1 });
    expect(fleet.callsTo('notifier', 'POST /events')[0]?.body).toMatchObject({ events: [{ status: 'disk-red', gateway: 'gw-1', detail: 'disk 90% used, red gate 90%: scale to minimum, canary drained' }] });
    expect(await adminState('gw-3')).toBe('drain');
    expect(r.journal.snapshot.entries.map((e) => [e.step, e.action, e.state, e.undo])).toEqual([['red-gate', 'haproxy gw-3 state drain', 'applied', { kind: 'lb.state', server: 'gw-3', state: 'ready' }]]);
    expect(r.events.at(-1)).toEqual({ label: expect.stringMatching(/^canary gw-3 drained in the load balancer \(DRAIN/), kind: 'fault' });
    expect((await rollback(r.journal, t)).ok).toBe(true);
    expect(await adminState('gw-3')).toBe('ready');
  });

  it('a digest the notifier could not publish counts 0, and so does a target without a notifier', async () => {
    disk('gw-1', 0.85);
    fleet.notifier.publishes = false;
    const r = stepContext(fleet, fakeTarget(fleet, { lb }), { id: 'y' });
    await runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r.ctx);
    expect(r.figures['y.digest_published']).toBe(0);
    expect(r.events.at(-1)?.label).toMatch(/^digest not published \(\{"id":1,"published":false/);

    fleet.reset();
    disk('gw-1', 0.85);
    const r2 = stepContext(fleet, fakeTarget(fleet, { lb, notifier: false }), { id: 'y' });
    await runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r2.ctx);
    expect(r2.figures['y.digest_published']).toBe(0);
    expect(r2.figures['y.scale_up_blocked']).toBe(1);
    expect(r2.events.map((e) => e.label)).toContain('no notifier on this target: digest not broadcast');
    expect(fleet.callsTo('notifier')).toEqual([]);
  });

  it('a probe whose disk_ok disagrees with its own ratio and gate is counted, and its flag still blocks scale-up', async () => {
    fleet.gw('gw-2').probe.diskOk = false; // 42% used, yet not ok
    const r = stepContext(fleet, fakeTarget(fleet, { lb }), { id: 'p' });
    await runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r.ctx);
    expect(r.figures).toMatchObject({ 'p.level': 'yellow', 'p.probe_inconsistent': 1, 'p.disk_ok_false': 1, 'p.scale_up_blocked': 1 });
  });

  it('red on a target without the load balancer runtime API fails the step after the figures are out', async () => {
    disk('gw-2', 0.95);
    const r = stepContext(fleet, fakeTarget(fleet), { id: 'red' });
    await expect(runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r.ctx)).rejects.toThrow(/HAProxy runtime API/);
    expect(r.figures['red.scale_to_min']).toBe(1);
    expect(r.figures['red.canary_drained']).toBeUndefined();
    expect(r.journal.snapshot.entries).toEqual([]);
  });

  it('an unknown canary, an off-contract probe and a refusing notifier fail the step', async () => {
    disk('gw-1', 0.95);
    const r = stepContext(fleet, fakeTarget(fleet, { lb }));
    await expect(runStep({ 'watermark.enforce': { canary: 'gw-9' } }, r.ctx)).rejects.toThrow(/no gateway "gw-9"/);
    expect(r.journal.snapshot.entries).toEqual([]);

    fleet.refuse('notifier', 'POST /events', 503);
    await expect(runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r.ctx)).rejects.toThrow(/POST .*\/events: HTTP 503/);
    expect(await adminState('gw-3')).toBe('ready');

    fleet.gw('gw-2').probe.offContract = true;
    await expect(runStep({ 'watermark.enforce': { canary: 'gw-3' } }, r.ctx)).rejects.toThrow(/gw-2: composite probe off contract/);
    expect(watermarkEnforce.refs?.(watermarkEnforce.schema.parse({ canary: 'gw-9' }), [])).toEqual([{ field: 'canary', kind: 'gateway', name: 'gw-9' }]);
    expect(StepSchema.safeParse({ 'watermark.enforce': {} }).success).toBe(false);
  });
});
