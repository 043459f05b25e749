// A target profile's storm settings over the defaults; a schedule's share from the command line.
import { describe, expect, it } from 'vitest';
import { defaultStormOptions, withShare, withStormSize } from '../../../src/storm/options.ts';
import { AFTER_HEAL, SOON } from '../../../src/storm/schedule.ts';

describe('storm options', () => {
  it('defaults: soon and after-heal schedules, all three aims, every duplicate class gated at 0', () => {
    const o = defaultStormOptions('smoke');
    expect(o.redeliveries.map((s) => s.name)).toEqual(['soon', 'after-heal']);
    expect(o.aims).toEqual(['acknowledger', 'other-replica', 'lb']);
    expect(o.duplicateGates).toEqual({ restart: 0, replicas: 0, process: 0 });
  });

  it("the profile's schedules, aims, heal timeout and gates go over the defaults", () => {
    const o = withStormSize(defaultStormOptions('smoke'), {
      senders: 20,
      redeliveries: [
        { name: 'later', share: 0.2, after: { exponential: { mean: '5s', max: '1m' } } },
        { name: 'after-heal', share: 1, after: 'heal' },
      ],
      aims: ['lb'],
      healTimeout: '2m',
      duplicates: { notSharedAcrossReplicas: 'off', withinProcess: 3 },
    });
    expect(o.senders).toBe(20);
    expect(o.redeliveries).toEqual([
      { name: 'later', share: 0.2, after: { kind: 'exponential', meanMs: 5_000, maxMs: 60_000 } },
      { name: 'after-heal', share: 1, after: 'heal' },
    ]);
    expect(o.aims).toEqual(['lb']);
    expect(o.healTimeoutMs).toBe(120_000);
    expect(o.duplicateGates).toEqual({ restart: 0, replicas: null, process: 3 });
  });

  it('withShare changes one schedule, or adds it with its defaults', () => {
    const o = withShare(defaultStormOptions('smoke'), SOON, 0.5);
    expect(o.redeliveries.find((s) => s.name === 'soon')?.share).toBe(0.5);
    const none = withShare({ ...o, redeliveries: [] }, AFTER_HEAL, 0.3);
    expect(none.redeliveries).toEqual([{ ...AFTER_HEAL, share: 0.3 }]);
  });
});
