// The hypothesis's gateway probe against a target whose probe is OpenClaw's /readyz (a bed of real
// gateways): ready ⇔ not degraded; what /readyz cannot tell is no data, never a pass.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProbe } from '../../../src/chaos/hypothesis.ts';
import type { Probe } from '../../../src/chaos/schema.ts';
import { chaosTargetFrom } from '../../../src/target/target.ts';
import { bindTestbed } from '../../../src/target/bind.ts';
import { loadTargetProfile } from '../../../src/config/profile.ts';
import { ProfileError } from '../../../src/config/errors.ts';
import type { OpenClawEndpoints, TestbedEndpoints } from '../../../src/testbed/types.ts';

let server: http.Server;
let base = '';
let answer: { status: number; body: string } = { status: 200, body: '{"ready":true}' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    // No Authorization is sent: /readyz needs none, and no token should leave for it.
    if (req.url !== '/readyz' || req.headers.authorization !== undefined) return void res.writeHead(400).end();
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const bed = (): OpenClawEndpoints => ({
  kind: 'openclaw',
  id: 'x',
  stateDir: '/nonexistent',
  startedAt: new Date(0).toISOString(),
  lb: { url: base },
  haproxy: { statsUrl: '', metricsUrl: '', socket: '/nonexistent.sock', backend: 'be_gateways' },
  prometheus: { url: 'http://127.0.0.1:1' },
  gateways: [{ id: 'gw-1', az: 'az-a', url: base, server: 'gw-1', configFile: '/nonexistent', appLogFile: '/nonexistent.jsonl' }],
  exporters: [],
  tokenFiles: { gateway: '/nonexistent', hook: '/nonexistent' },
  openclaw: { version: '0', packageDir: '/nonexistent' },
});

const target = () => {
  const profile = bindTestbed(loadTargetProfile('profiles/openclaw.yaml'), bed());
  return chaosTargetFrom({ profile, tokens: {}, testbed: bed() });
};
const probe = (expect: Record<string, unknown>): Probe => ({ name: 'p', phases: ['during'], tolerance: 0, probe: { gateway: 'gw-1', expect } }) as Probe;

describe('readyz probe', () => {
  it('ready → not degraded; 503 while draining → degraded', async () => {
    const t = target();
    answer = { status: 200, body: '{"ready":true}' };
    expect((await checkProbe(probe({ degraded: false }), t, undefined)).ok).toBe(true);
    answer = { status: 503, body: '{"ready":false,"failing":["draining"]}' };
    const c = await checkProbe(probe({ degraded: false }), t, undefined);
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('failing draining');
    expect((await checkProbe(probe({ degraded: true }), t, undefined)).ok).toBe(true);
  });

  it('an answer off contract fails; an expectation /readyz cannot tell is no data', async () => {
    const t = target();
    answer = { status: 200, body: '{"status":"ok"}' };
    expect((await checkProbe(probe({ degraded: false }), t, undefined)).ok).toBe(false);
    answer = { status: 200, body: '{"ready":true}' };
    const c = await checkProbe(probe({ disk_ok: true }), t, undefined);
    expect(c.ok).toBeNull();
    expect(c.detail).toMatch(/does not tell disk_ok/);
  });

  it('a profile binds only its own kind of bed', () => {
    const reference = { ...bed(), kind: undefined } as unknown as TestbedEndpoints;
    expect(() => bindTestbed(loadTargetProfile('profiles/openclaw.yaml'), reference)).toThrow(ProfileError);
    expect(() => bindTestbed(loadTargetProfile('profiles/local.yaml'), bed())).toThrow(/runs real OpenClaw gateways/);
  });
});
