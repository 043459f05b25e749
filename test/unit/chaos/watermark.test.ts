import { describe, expect, it } from 'vitest';
import { gatesFor, ratioAt, watermarkPolicy, type GatewayDisk } from '../../../src/chaos/watermark.ts';

const disk = (gateway: string, ratio: number, capacity: number): GatewayDisk => {
  const g = gatesFor(capacity);
  return { gateway, az: 'az-a', ratio, yellow: g.yellow, red: g.red, diskOk: ratio < g.yellow };
};

describe('disk watermark policy', () => {
  it('gates per tier: yellow 82% on 1 TB, 78% on 2 TB, red 90% on both', () => {
    expect(gatesFor(1e12)).toEqual({ yellow: 0.82, red: 0.9 });
    expect(gatesFor(2e12)).toEqual({ yellow: 0.78, red: 0.9 });
    expect(ratioAt('yellow', gatesFor(2e12))).toBe(0.78);
    expect(ratioAt('below-yellow', gatesFor(1e12))).toBe(0.81);
    expect(ratioAt('red', gatesFor(1e12))).toBe(0.9);
    expect(ratioAt(0.5, gatesFor(1e12))).toBe(0.5);
  });

  it('below the gates: nothing happens', () => {
    const s = watermarkPolicy([disk('gw-1', 0.81, 1e12), disk('gw-3', 0.77, 2e12)]);
    expect(s).toMatchObject({ level: 'ok', blockScaleUp: false, broadcastDigest: false, scaleToMin: false, drainCanary: false, yellow: [] });
  });

  it('yellow on one tier only: 80% is yellow on 2 TB but not on 1 TB', () => {
    const s = watermarkPolicy([disk('gw-1', 0.8, 1e12), disk('gw-3', 0.8, 2e12)]);
    expect(s.level).toBe('yellow');
    expect(s.yellow).toEqual(['gw-3']);
    expect(s).toMatchObject({ blockScaleUp: true, stableLaneOnly: true, broadcastDigest: true, scaleToMin: false, drainCanary: false });
  });

  it('red on either tier: scale to minimum and drain the canary', () => {
    const s = watermarkPolicy([disk('gw-1', 0.9, 1e12), disk('gw-3', 0.5, 2e12)]);
    expect(s).toMatchObject({ level: 'red', red: ['gw-1'], scaleToMin: true, drainCanary: true, blockScaleUp: true });
  });

  it('a probe whose disk_ok disagrees with its own gate is named (and still counts as yellow)', () => {
    const lying = { ...disk('gw-2', 0.5, 1e12), diskOk: false };
    const s = watermarkPolicy([lying]);
    expect(s.inconsistent).toEqual(['gw-2']);
    expect(s.level).toBe('yellow');
  });

  it('disk_ok false with no disk_used_ratio fails closed: red, scale to minimum, and the reason says why', () => {
    const silent = { ...disk('gw-3', Number.NaN, 1e12), diskOk: false };
    const s = watermarkPolicy([disk('gw-1', 0.5, 1e12), silent]);
    expect(s.level).toBe('red');
    expect(s.scaleToMin).toBe(true);
    expect(s.red).toEqual(['gw-3']);
    expect(s.reasons).toEqual(['gw-3: disk_ok false without disk_used_ratio — no evidence it is below the red gate, treated as red (fails closed)']);
    // disk_ok true without a ratio is a healthy probe that reports less: nothing to act on.
    expect(watermarkPolicy([{ ...disk('gw-1', Number.NaN, 1e12), diskOk: true }]).level).toBe('ok');
  });
});
