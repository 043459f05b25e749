import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import {
  diskGates,
  PROBE_SCHEMA_ID,
  PROBE_SCHEMA_VERSION,
  ProbeResponseSchema,
  validateProbe,
} from '../../../contract/probe.ts';

const docPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/probe.schema.json');
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8')) as Record<string, unknown>;
const ajvValidate = new Ajv2020({ strict: false, allErrors: true }).compile(doc);

const healthy = {
  status: 'healthy',
  keda: 'openclaw-build-lane',
  canary: { '5xx_rate': 0.003, p99_ms: 158 },
  gateway: { disk_ok: true, queue_depth: 5, skill_hash: 'c4e1abcd' },
  degraded: false,
};

const withDetail = {
  ...healthy,
  detail: {
    schema_version: PROBE_SCHEMA_VERSION,
    gateway_id: 'gw-1',
    ws_connections: 3,
    checks: { redis: { ok: true, latency_ms: 0.4 }, policy: { ok: false, latency_ms: 800, error: 'timeout' } },
    reasons: [],
    something_new: { nested: true },
  },
};

// [name, document, valid?]: both schemas must agree on every case.
const cases: Array<[string, unknown, boolean]> = [
  ['plan §5 example', healthy, true],
  ['with detail', withDetail, true],
  ['degraded', { ...healthy, status: 'degraded', degraded: true }, true],
  ['status contradicts degraded', { ...healthy, status: 'healthy', degraded: true }, false],
  ['status contradicts degraded (other way)', { ...healthy, status: 'degraded', degraded: false }, false],
  ['unknown status', { ...healthy, status: 'ok' }, false],
  ['extra top-level key', { ...healthy, extra: 1 }, false],
  ['extra canary key', { ...healthy, canary: { ...healthy.canary, p95_ms: 1 } }, false],
  ['extra gateway key', { ...healthy, gateway: { ...healthy.gateway, id: 'x' } }, false],
  ['missing canary', { ...healthy, canary: undefined }, false],
  ['rate above 1', { ...healthy, canary: { '5xx_rate': 1.5, p99_ms: 1 } }, false],
  ['negative p99', { ...healthy, canary: { '5xx_rate': 0, p99_ms: -1 } }, false],
  ['fractional queue depth', { ...healthy, gateway: { ...healthy.gateway, queue_depth: 1.5 } }, false],
  ['disk_ok as string', { ...healthy, gateway: { ...healthy.gateway, disk_ok: 'true' } }, false],
  ['empty skill hash', { ...healthy, gateway: { ...healthy.gateway, skill_hash: '' } }, false],
  ['detail without version', { ...healthy, detail: { gateway_id: 'x' } }, false],
  ['check without ok', { ...healthy, detail: { schema_version: '1.0.0', checks: { redis: { latency_ms: 1 } } } }, false],
];

describe('composite probe schema', () => {
  it.each(cases)('%s', (_name, document, valid) => {
    const plain = JSON.parse(JSON.stringify(document)) as unknown;
    expect(ProbeResponseSchema.safeParse(plain).success).toBe(valid);
    expect(ajvValidate(plain)).toBe(valid);
  });

  it('the JSON Schema is draft 2020-12 with an $id carrying the version', () => {
    expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.$id).toBe(PROBE_SCHEMA_ID);
    expect(String(doc.$id)).toContain(PROBE_SCHEMA_VERSION);
  });

  it('validateProbe names the failing path', () => {
    const r = validateProbe({ ...healthy, gateway: { ...healthy.gateway, queue_depth: -1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join()).toContain('gateway.queue_depth');
  });

  it('disk gates follow the disk size tiers', () => {
    expect(diskGates(1e12)).toEqual({ yellow: 0.82, red: 0.9 });
    expect(diskGates(2 ** 40)).toEqual({ yellow: 0.82, red: 0.9 });
    expect(diskGates(2e12)).toEqual({ yellow: 0.78, red: 0.9 });
    expect(diskGates(5e11)).toEqual({ yellow: 0.82, red: 0.9 });
  });
});
