import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../harness/common/log.ts';
import type { BaseContext } from '../../../harness/gateway/context.ts';
import { createGatewayMetrics } from '../../../harness/gateway/metrics.ts';
import { createPolicyClient, parseDecision } from '../../../harness/gateway/policy-client.ts';

const INPUT = { tenant_id: 'acme', user_id: 'u', action: 'email_read', data_classification: 'internal', channel: 'http', target_system: 'gmail' };

describe('decision parsing (fail closed)', () => {
  it('reads a full decision, a bare boolean and the approval obligation', () => {
    expect(parseDecision({ result: { allow: true, reason: 'ok', policy: 'p@v1', require_approval: true } })).toEqual({ allow: true, reason: 'ok', policy: 'p@v1', requireApproval: true });
    expect(parseDecision({ result: false })).toEqual({ allow: false, reason: 'denied' });
    expect(parseDecision({ result: { allow: false } })).toEqual({ allow: false, reason: 'denied' });
  });

  it.each([{}, { result: { reason: 'no allow field' } }, { result: 'yes' }, null, 'text', { result: { allow: 'true' } }])('%j is an error, never an allow', (body) => {
    const d = parseDecision(body);
    expect(d.allow).toBe(false);
    expect(d.error).toBe(true);
  });
});

describe('policy client against a live HTTP server', () => {
  let server: http.Server;
  let base: string;
  let mode: 'ok' | 'hang' | '500' | 'garbage' = 'ok';
  const seen: unknown[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url, body: JSON.parse(body) as unknown });
        if (mode === 'hang') return; // never answers
        if (mode === '500') return void res.writeHead(500).end('{"code":"internal_error"}');
        if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{not json');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: { allow: true, reason: 'fine', policy: 'p@v2' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function client(url: string, timeoutMs = 300) {
    const metrics = createGatewayMetrics({ gateway: 'g', az: 'a', version: 'v', skillHash: 'abcd' });
    const ctx = { config: { policyUrl: url, policyTimeoutMs: timeoutMs }, metrics, onClose: [], log: createLogger('test') } as unknown as BaseContext;
    return { c: createPolicyClient(ctx), metrics, ctx };
  }

  it('posts {input} to /v1/data/openclaw/enterprise/<domain> and reads the decision', async () => {
    mode = 'ok';
    const { c, metrics } = client(base);
    expect(await c.evaluate('integrations', INPUT)).toEqual({ allow: true, reason: 'fine', policy: 'p@v2' });
    expect(seen.at(-1)).toEqual({ url: '/v1/data/openclaw/enterprise/integrations', body: { input: INPUT } });
    expect((await metrics.policyEvaluations.get()).values).toEqual([{ labels: { domain: 'integrations', result: 'allow' }, value: 1 }]);
  });

  it.each(['hang', '500', 'garbage'] as const)('%s → deny with error, within the timeout', async (m) => {
    mode = m;
    const { c, metrics } = client(base, 300);
    const t0 = Date.now();
    const d = await c.evaluate('actions', INPUT);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(d).toMatchObject({ allow: false, error: true });
    expect((await metrics.policyEvaluations.get()).values[0]?.labels.result).toBe('error');
  });

  it('unreachable → deny with error, never throws', async () => {
    const { c } = client('http://127.0.0.1:1');
    expect(await c.evaluate('actions', INPUT)).toMatchObject({ allow: false, error: true });
  });
});
