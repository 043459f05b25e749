// `if:` of drill steps and criteria: truthy, or one text comparison of rendered values.
import { describe, expect, it } from 'vitest';
import { holds } from '../../../src/chaos/condition.ts';
import { resolveDrill } from '../../../src/chaos/schema.ts';

describe('holds', () => {
  it('truthy values', () => {
    expect([undefined, 1, true, 'yes', '1500'].map(holds)).toEqual([true, true, true, true, true]);
    expect([0, Number.NaN, false, '', '0', 'false', 'FALSE'].map(holds)).toEqual([false, false, false, false, false, false, false]);
  });

  it('a == b and a != b compare the rendered text', () => {
    expect(holds('crash != hang')).toBe(true);
    expect(holds('hang != hang')).toBe(false);
    expect(holds('hang == hang')).toBe(true);
    expect(holds(' drain ==crash ')).toBe(false);
  });
});

describe('gateway-pair after heal', () => {
  it('redelivers the victim’s keys once it is back; judges the restart class only when the victim is restarted', () => {
    for (const [mode, judged] of [['crash', true], ['drain', true], ['hang', false]] as const) {
      const d = resolveDrill('gateway-pair', { profile: 'smoke', set: { mode } });
      const step = d.method.find((s) => s.id === 'after-heal') as unknown as { 'webhooks.redeliver': { gateway: string; before: string; others: string[] } };
      expect(step['webhooks.redeliver']).toMatchObject({ gateway: 'gw-1', before: 'take-out', others: ['gw-2'] });
      const restart = d.criteria.find((c) => c.figure === 'webhooks_dup_forgotten_across_restart')!;
      expect(holds(restart.if), mode).toBe(judged);
    }
  });
});
