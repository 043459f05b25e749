import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertChaosAllowed, bindTestbed } from '../../../src/target/bind.ts';
import { DEFAULT_METRICS } from '../../../src/config/default-metrics.ts';
import { loadTargetProfile, parseTargetProfile } from '../../../src/config/profile.ts';
import { ProfileError } from '../../../src/config/errors.ts';
import { resolveTokens } from '../../../src/target/tokens.ts';
import type { TestbedEndpoints } from '../../../src/testbed/types.ts';
import { clearSecrets, redact } from '../../../src/util/redact.ts';

const repo = path.resolve(import.meta.dirname, '../../..');
const remote = (extra = '') => `name: staging
allowChaos: false
gateways:
  - name: gw-a1
    url: http://127.0.0.1:18789
    az: a
lb: http://127.0.0.1:8080
prometheus: { url: http://127.0.0.1:9090 }
tokens:
  gateway: { env: CS_TEST_GATEWAY_TOKEN }
${extra}`;

function problems(text: string, file = 'profiles/staging.yaml'): string[] {
  try {
    parseTargetProfile(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return (err as ProfileError).problems;
  }
  throw new Error('expected a ProfileError');
}

afterEach(() => clearSecrets());

describe('target profiles', () => {
  it('profiles/local.yaml loads, is a chaos-allowed testbed profile, and its metrics are the defaults but for two local rows', () => {
    const p = loadTargetProfile(path.join(repo, 'profiles/local.yaml'));
    expect(p).toMatchObject({ name: 'local', testbed: true, allowChaos: true });
    expect(p.metrics.map((m) => m.metric)).toEqual(DEFAULT_METRICS.map((m) => m.metric));
    // Local deviations: throughput and host CPU are shown but not gated; active connections from the pools (no postgres_exporter on PGlite).
    const differing = p.metrics.filter((m, i) => JSON.stringify(m) !== JSON.stringify(DEFAULT_METRICS[i])).map((m) => m.metric);
    expect(differing).toEqual(['Request throughput (req/s)', 'Host CPU utilization', 'DB active connections']);
    expect(p.metrics.filter((m) => !m.gate).map((m) => m.metric)).toEqual(['Request throughput (req/s)', 'Host CPU utilization']);
    expect(p.metrics.find((m) => m.metric === 'Request throughput (req/s)')?.gate).toBe(false);
    expect(p.metrics.map((m) => m.metric)).toContain('DB active connections');
  });

  it('a remote profile without metrics gets the defaults', () => {
    const p = parseTargetProfile(remote(), 'staging.yaml');
    expect(p.metrics).toEqual(DEFAULT_METRICS);
    expect(p.gateways[0]).toMatchObject({ name: 'gw-a1', az: 'a' });
  });

  it('errors name the file, the field path and what was expected, one line each', () => {
    const lines = problems(remote().replace('url: http://127.0.0.1:18789', 'url: not-a-url').replace('allowChaos: false', 'allowChaos: "yes"\nextraField: 1'));
    expect(lines).toContain('profiles/staging.yaml: gateways[0].url: expected an http(s) URL');
    expect(lines).toContain('profiles/staging.yaml: allowChaos: expected boolean, got a string');
    expect(lines).toContain('profiles/staging.yaml: (top level): unknown field "extraField"');
  });

  it('missing required fields say so', () => {
    const lines = problems('name: x\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'profiles/staging.yaml: gateways: expected at least one gateway',
        'profiles/staging.yaml: lb: required: expected the load balancer URL',
        'profiles/staging.yaml: prometheus.url: required: expected the Prometheus URL (thresholds are scored from it)',
      ]),
    );
  });

  it('inline token values are refused, and the value is never echoed', () => {
    const lines = problems(remote().replace('gateway: { env: CS_TEST_GATEWAY_TOKEN }', 'gateway: sk-live-abcdef123456'));
    expect(lines).toEqual(['profiles/staging.yaml: tokens.gateway: inline secrets are not allowed: use {env: NAME} or {file: PATH}']);
    expect(lines.join('\n')).not.toContain('sk-live');
  });

  it('invalid PromQL in a metric row is caught at load time with its field', () => {
    const lines = problems(
      remote(`metrics:
  - { group: application, metric: Broken, query: 'sum(rate(x[5m])', unit: ratio, target: { op: '<', value: 1 }, alert: { op: '>', value: 2 } }
`),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^profiles\/staging\.yaml: metrics\[0\]\.query: invalid PromQL at column \d+/);
  });

  it('fault commands must be reversible; YAML syntax errors carry line and column', () => {
    const lines = problems(remote().replace('    az: a', '    az: a\n    faults: { stop: [kill, "1"] }'));
    expect(lines).toEqual(['profiles/staging.yaml: gateways[0].faults.start: required when stop or kill is given (a stopped gateway must be restartable)']);
    const yaml = problems('name: [unclosed\n');
    expect(yaml[0]).toMatch(/^profiles\/staging\.yaml:\d+:\d+: invalid YAML/);
  });

  it('tokens resolve from env and files, are redacted, and problems name the variable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-prof-'));
    fs.writeFileSync(path.join(dir, 'hook.token'), 'hook-secret-value\n');
    const file = path.join(dir, 'p.yaml');
    const p = parseTargetProfile(remote().replace('gateway: { env: CS_TEST_GATEWAY_TOKEN }', 'gateway: { env: CS_TEST_GATEWAY_TOKEN }\n  hook: { file: hook.token }'), file);
    const tokens = resolveTokens(p, { CS_TEST_GATEWAY_TOKEN: 'gw-secret-value' });
    expect(tokens).toEqual({ gateway: 'gw-secret-value', hook: 'hook-secret-value' });
    expect(redact('Authorization: Bearer gw-secret-value; hook=hook-secret-value')).toBe('Authorization: Bearer ***; hook=***');
    expect(() => resolveTokens(p, {})).toThrow(`${path.resolve(file)}: tokens.gateway: environment variable CS_TEST_GATEWAY_TOKEN is not set`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('chaos is refused unless allowed; a testbed profile binds to the running test bed', () => {
    const staging = parseTargetProfile(remote(), 'staging.yaml');
    expect(() => assertChaosAllowed(staging, 'stopping gw-a1')).toThrow(/refused.*allowChaos: true/);
    const local = loadTargetProfile(path.join(repo, 'profiles/local.yaml'));
    const endpoints = {
      lb: { url: 'http://127.0.0.1:4000' },
      prometheus: { url: 'http://127.0.0.1:4001' },
      gateways: [{ id: 'gw-a1', az: 'a', url: 'http://127.0.0.1:4002', server: 'gw-a1', configFile: '/x' }],
      tokenFiles: { gateway: '/s/gateway.token', hook: '/s/hook.token', admin: '/s/admin.token', probe: '/s/probe.token' },
    } as unknown as TestbedEndpoints;
    const bound = bindTestbed(local, endpoints);
    expect(bound).toMatchObject({ lb: 'http://127.0.0.1:4000', prometheus: { url: 'http://127.0.0.1:4001', scrapeInterval: '1s' }, gateways: [{ name: 'gw-a1', az: 'a' }] });
    expect(bound.tokens.hook).toEqual({ file: '/s/hook.token' });
    expect(() => assertChaosAllowed(bound, 'drill')).not.toThrow();
  });
});
