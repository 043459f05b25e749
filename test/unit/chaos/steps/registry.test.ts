// The registry, the schema and the messages agree: every kind has a test file here, StepSchema
// takes exactly one action per step (any one of the kinds, never two, never an unknown key), and
// a step with an unknown action is answered with the list of kinds from the registry.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { flattenUnionIssues } from '../../../../src/chaos/schema.ts';
import { actionOf, kindOf, STEP_KEYS, STEP_KINDS, StepSchema, stepLabel, type StepKey } from '../../../../src/chaos/steps/index.ts';

/** One valid action per kind; a kind added to the registry without one here fails to typecheck. */
const SAMPLE: Record<StepKey, unknown> = {
  'gateway.fault': { gateway: 'gw-1', mode: 'crash' },
  'gateway.restore': { gateway: 'gw-1' },
  'gateway.faults': { gateways: 'all', patch: { latencyMs: 100 } },
  'lb.state': { server: 'gw-1', state: 'drain' },
  'lb.weight': { server: 'gw-1', weight: 10 },
  command: { gateway: 'gw-1', fault: 'stop' },
  'tokens.overlap': { token: 'next' },
  'clients.rotate': { token: 'next' },
  'tokens.revoke': { keep: 'next' },
  'wait.stable': { queries: [{ name: 'q', query: 'sum(up)' }], interval: '1s', timeout: '5s' },
  'expect.http': { path: '/tools/invoke', token: 'gateway', status: 200 },
  'disk.fill': { gateways: 'all', level: 'yellow' },
  'watermark.enforce': { canary: 'gw-1' },
  wait: '1s',
  'webhooks.redeliver': { gateway: 'gw-1', before: 'take-out' },
};

/** A method as a drill file holds it, with the messages a drill file would get. */
function methodIssues(method: unknown[]): string[] {
  const r = z.strictObject({ method: z.array(StepSchema) }).safeParse({ method });
  return r.success ? [] : flattenUnionIssues(r.error.issues).map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('step registry', () => {
  it('every kind has its own test file in this directory, and every test file here is a kind (or this one)', () => {
    const files = fs.readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts'));
    const kinds = files.map((f) => f.slice(0, -'.test.ts'.length)).filter((k) => k !== 'registry');
    expect([...kinds].sort()).toEqual([...STEP_KEYS].sort());
  });

  it('keys are unique and the list of keys is the registry order', () => {
    expect(new Set(STEP_KEYS).size).toBe(STEP_KINDS.length);
    expect(STEP_KEYS).toEqual(STEP_KINDS.map((k) => k.key));
    expect(STEP_KEYS).toHaveLength(15);
  });

  it.each(STEP_KEYS.map((k) => [k]))('%s: one action parses, and kindOf / actionOf find it again', (key) => {
    const step = StepSchema.parse({ id: 'my-step', [key]: SAMPLE[key] });
    expect(kindOf(step).key).toBe(key);
    expect(actionOf(step)).toEqual(STEP_KINDS.find((k) => k.key === key)!.schema.parse(SAMPLE[key]));
    expect(stepLabel(step, 4)).toBe('my-step');
    expect(stepLabel(StepSchema.parse({ [key]: SAMPLE[key] }), 4)).toBe(`${key} #5`);
    expect(stepLabel(StepSchema.parse({ name: 'Named', id: 'x', [key]: SAMPLE[key] }), 4)).toBe('Named');
  });

  it('two actions in one step are refused, for every pair', () => {
    const refused: string[] = [];
    for (const a of STEP_KEYS) for (const b of STEP_KEYS) if (a < b && !StepSchema.safeParse({ [a]: SAMPLE[a], [b]: SAMPLE[b] }).success) refused.push(`${a}+${b}`);
    expect(refused).toHaveLength((STEP_KEYS.length * (STEP_KEYS.length - 1)) / 2);
  });

  it('a step without an action is refused; so are unknown timing fields', () => {
    expect(StepSchema.safeParse({ id: 'x', at: '1s' }).success).toBe(false);
    expect(StepSchema.safeParse({ wait: '1s', every: '1s' }).success).toBe(false);
    expect(StepSchema.parse({ wait: '1s', at: '2s', after: 500, if: 0, id: 'w', name: 'W' })).toEqual({ wait: 1_000, at: 2_000, after: 500, if: 0, id: 'w', name: 'W' });
  });

  it('an unknown action key (or two actions) is answered with every kind, in registry order', () => {
    const expected = `method.0: expected exactly one of ${STEP_KEYS.join(', ')} (with its fields)`;
    expect(methodIssues([{ teleport: { to: 'gw-1' } }])).toEqual([expected]);
    expect(methodIssues([{ wait: '1s', 'gateway.restore': { gateway: 'gw-1' } }])).toEqual([expected]);
  });

  it('a step with no action is answered with every kind too', () => {
    const expected = `method.0: expected exactly one of ${STEP_KEYS.join(', ')} (with its fields)`;
    expect(methodIssues([{ id: 'take-out', at: '1s' }])).toEqual([expected]);
  });

  it("a known action with a bad field is answered with that kind's own message, at the field", () => {
    expect(methodIssues([{ 'lb.weight': { server: 'gw-1', weight: 300 } }])).toEqual(['method.0.lb.weight.weight: Too big: expected number to be <=256']);
  });
});
