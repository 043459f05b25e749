import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileError } from '../../../src/config/errors.ts';
import { listDrills, parseDrill, resolveDrill } from '../../../src/chaos/schema.ts';
import { kindOf } from '../../../src/chaos/steps/index.ts';

const F = '/drills/x.yaml';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProfileError) return err.problems;
    throw err;
  }
  throw new Error('expected a ProfileError');
}

describe('drill files', () => {
  it('the shipped drills parse in both profiles', () => {
    expect(listDrills()).toEqual(['disk-watermark', 'gateway-pair', 'token-rotation']);
    for (const name of listDrills()) {
      for (const profile of ['smoke', 'full']) {
        const d = resolveDrill(name, { profile });
        expect(d.name).toBe(name);
        expect(d.method.length).toBeGreaterThan(0);
        expect(d.criteria.length + d.hypothesis.probes.length).toBeGreaterThan(0);
      }
    }
  });

  it('renders options: defaults, then the profile, then the command line (types kept)', () => {
    const smoke = resolveDrill('gateway-pair', { profile: 'smoke' });
    expect(smoke.options.mode).toBe('crash');
    expect(smoke.timing.warmup).toBe(4_000);
    expect(smoke.load.tools?.rate).toBe(15);
    const full = resolveDrill('gateway-pair', { profile: 'full', set: { mode: 'hang', victim: 'gw-2', survivor: 'gw-1', toolRate: '40' } });
    expect(full.timing.warmup).toBe(30_000);
    expect(full.load.tools?.rate).toBe(40);
    const takeOut = full.method.find((s) => s.id === 'take-out')!;
    expect(kindOf(takeOut).key).toBe('gateway.fault');
    expect(takeOut).toMatchObject({ 'gateway.fault': { gateway: 'gw-2', mode: 'hang' } });
    expect(full.scope?.servers).toEqual(['gw-2', 'gw-1']);
    // `if` renders to the option value: 0 keeps the step off.
    expect(full.method.find((s) => s.id === 'slow-survivor')?.if).toBe(0);
  });

  it('refuses unknown options, values outside the list and unknown profiles, naming the file', () => {
    expect(problems(() => resolveDrill('gateway-pair', { set: { mood: 'x' } }))[0]).toMatch(/gateway-pair\.yaml: options: drill gateway-pair has no option "mood"/);
    expect(problems(() => resolveDrill('gateway-pair', { set: { mode: 'explode' } }))[0]).toMatch(/options\.mode: expected one of "crash", "drain", "hang", got "explode"/);
    expect(problems(() => resolveDrill('gateway-pair', { profile: 'soak' }))[0]).toMatch(/profiles: drill gateway-pair has no profile "soak"/);
    expect(problems(() => resolveDrill('nope'))[0]).toMatch(/unknown drill "nope"; known: disk-watermark, gateway-pair, token-rotation/);
  });

  it('errors name the file and the field, inside steps and probes too', () => {
    const base = 'name: x\ntitle: X\n';
    expect(problems(() => parseDrill(`${base}method:\n  - { gateway.fault: { gateway: gw-1, mode: explode } }\n`, F))).toEqual([
      `${F}: method[0].gateway.fault.mode: expected one of "crash", "drain", "hang", got "explode"`,
    ]);
    expect(problems(() => parseDrill(`${base}method:\n  - { teleport: {} }\n`, F))[0]).toMatch(new RegExp(`^${F}: method\\[0\\]: expected exactly one of gateway.fault, `));
    expect(problems(() => parseDrill(`${base}method:\n  - { wait: soon }\n`, F))[0]).toMatch(new RegExp(`^${F}: method\\[0\\]\\.wait: invalid duration`));
    expect(problems(() => parseDrill(`${base}hypothesis: { probes: [ { name: p, client: { metric: errors, expr: 'rate<<1' } } ] }\nmethod: [ { wait: 1s } ]\n`, F))[0]).toMatch(
      new RegExp(`^${F}: hypothesis\\.probes\\[0\\]\\.client\\.expr: bad threshold expression`),
    );
    expect(problems(() => parseDrill(`${base}method: [ { wait: 1s } ]\nwatch: [ { kind: lb-down, name: x_ms, server: gw-1, from: nowhere } ]\n`, F))[0]).toBe(`${F}: watch[0].from: no method step with id "nowhere"`);
    expect(problems(() => parseDrill(`${base}method: [ { wait: 1s, at: 1s, after: 1s } ]\n`, F))[0]).toBe(`${F}: method[0]: give at or after, not both`);
    expect(problems(() => parseDrill(`${base}options: { v: { default: gw-1 } }\nmethod: [ { gateway.restore: { gateway: '{{w}}' } } ]\n`, F))[0]).toMatch(/unknown template variable \{\{w\}\}/);
    expect(problems(() => parseDrill('name: x\n', F))[0]).toBe(`${F}: title: required: expected string`);
    expect(problems(() => parseDrill('name: [x\n', F))[0]).toMatch(new RegExp(`^${F}:\\d+:\\d+: invalid YAML`));
  });

  it('a drill file on disk is found by path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-'));
    const file = path.join(dir, 'mine.yaml');
    fs.writeFileSync(file, 'name: mine\ntitle: Mine\nmethod: [ { wait: 10ms } ]\n');
    expect(resolveDrill(file).title).toBe('Mine');
    fs.rmSync(dir, { recursive: true });
  });
});
