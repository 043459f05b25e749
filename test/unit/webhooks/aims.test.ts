// Where each redelivery goes: the acknowledger, another replica, the load balancer.
import { describe, expect, it } from 'vitest';
import { aimTargets, gatewayOfServer, otherReplicaPicker } from '../../../src/webhooks/aims.ts';

const gws = [
  { name: 'gw-1', url: 'http://127.0.0.1:1001', server: 'srv-1' },
  { name: 'gw-2', url: 'http://127.0.0.1:1002', server: 'srv-2' },
  { name: 'gw-3', url: 'http://127.0.0.1:1003', server: 'srv-3' },
];
const lb = 'http://127.0.0.1:1000';

describe('aims', () => {
  it('maps the load balancer server name to the gateway', () => {
    expect(gatewayOfServer(gws, 'srv-2')).toBe('gw-2');
    expect(gatewayOfServer(gws, 'nobody')).toBeUndefined();
    expect(gatewayOfServer(gws, undefined)).toBeUndefined();
  });

  it('sends to the acknowledger directly, to another replica, and through the load balancer', () => {
    const r = aimTargets(['acknowledger', 'other-replica', 'lb'], 'gw-1', lb, gws, otherReplicaPicker(gws));
    expect(r.targets).toEqual([
      { aim: 'acknowledger', url: 'http://127.0.0.1:1001', gateway: 'gw-1' },
      { aim: 'other-replica', url: 'http://127.0.0.1:1002', gateway: 'gw-2' },
      { aim: 'lb', url: lb },
    ]);
    expect(r.notAimed).toEqual([]);
  });

  it('the other replicas take turns, never the acknowledger; a pool limits them', () => {
    const pick = otherReplicaPicker(gws);
    expect([pick('gw-2'), pick('gw-2'), pick('gw-2')].map((g) => g?.name)).toEqual(['gw-1', 'gw-3', 'gw-1']);
    const pair = otherReplicaPicker(gws, ['gw-1', 'gw-2']);
    expect([pair('gw-1'), pair('gw-1')].map((g) => g?.name)).toEqual(['gw-2', 'gw-2']);
    expect(otherReplicaPicker(gws, ['gw-1'])('gw-1')).toBeUndefined();
  });

  it('an acknowledger nobody named cannot be aimed at: counted as not aimed', () => {
    const r = aimTargets(['acknowledger', 'other-replica', 'lb'], undefined, lb, gws, otherReplicaPicker(gws));
    expect(r.targets.map((x) => x.aim)).toEqual(['lb']);
    expect(r.notAimed).toEqual(['acknowledger', 'other-replica']);
  });
});
