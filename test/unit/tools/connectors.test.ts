import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, ConnectorError, createConnectorClient, parseRetryAfter } from '../../../harness/gateway/connectors.ts';
import type { GatewayContext } from '../../../harness/gateway/context.ts';
import { UpstreamsConfigSchema } from '../../../harness/upstreams/config.ts';
import { buildUpstreams } from '../../../harness/upstreams/server.ts';
import { counterValue, testContext } from './helpers.ts';

describe('backoff', () => {
  const o = { baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000, random: () => 0.5 };
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
  it('full jitter over an exponentially growing, capped window', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, undefined, o))).toEqual([100, 200, 400, 500, 500]);
    expect(backoffDelayMs(3, undefined, { ...o, random: () => 0 })).toBe(0);
  });
  it('Retry-After is a floor (clamped to maxRetryAfterMs), jitter comes on top', () => {
    expect(backoffDelayMs(1, 2_000, o)).toBe(2_100);
    expect(backoffDelayMs(1, 3_600_000, o)).toBe(5_100);
  });
});

describe('connector client against the upstreams process', () => {
  const upstream = buildUpstreams(UpstreamsConfigSchema.parse({ port: 1, latencyMs: { base: 0, jitter: 0 }, anchorDate: '2026-03-10' }));
  let url = '';
  let ctx: GatewayContext;
  const fast = { baseDelayMs: 20, maxDelayMs: 200 };
  const setLimits = async (body: Record<string, unknown>) => {
    const r = await upstream.app.inject({ method: 'PUT', url: '/admin/config', payload: body });
    expect(r.statusCode).toBe(200);
  };

  beforeAll(async () => {
    await upstream.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(upstream.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await upstream.app.close();
  });
  beforeEach(async () => {
    await setLimits({ errorRate: 0, limits: { github: { perApp: { capacity: 500, refillPerSec: 100 } } } });
    ctx = testContext({ upstreamUrl: url });
    return async () => {
      for (const f of ctx.onClose) await f();
    };
  });

  const burst = (c: ReturnType<typeof createConnectorClient>, n: number) =>
    Promise.allSettled(Array.from({ length: n }, (_, i) => c.read('github', `/github/search/issues?q=involves:u-${i}`, `u-${i}`)));

  it('a burst over the provider limit ends with every read ok, 429s retried and counted', async () => {
    await setLimits({ limits: { github: { perApp: { capacity: 10, refillPerSec: 10 } } } });
    const c = createConnectorClient(ctx, fast);
    const results = await burst(c, 30);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await counterValue(ctx, 'openclaw_connector_requests_total', { connector: 'github', outcome: 'ok' })).toBe(30);
    expect(await counterValue(ctx, 'openclaw_connector_upstream_429_total', { connector: 'github' })).toBeGreaterThan(0);
    expect(await counterValue(ctx, 'openclaw_connector_retries_total', { connector: 'github' })).toBeGreaterThan(0);
    expect(await counterValue(ctx, 'openclaw_connector_queued', { connector: 'github' })).toBe(0);
  });

  it('with retries switched off the same burst loses reads, each with a typed error', async () => {
    await setLimits({ limits: { github: { perApp: { capacity: 5, refillPerSec: 10 } } } });
    ctx.config.connectorRetries = false;
    const c = createConnectorClient(ctx, fast);
    const results = await burst(c, 30);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f.reason).toMatchObject({ name: 'ConnectorError', kind: 'rate_limited', attempts: 1, status: 429 });
    expect(await counterValue(ctx, 'openclaw_connector_retries_total', { connector: 'github' })).toBe(0);
    expect(await counterValue(ctx, 'openclaw_connector_requests_total', { connector: 'github', outcome: 'error' })).toBe(failed.length);
  });

  it('transient 5xx are retried', async () => {
    await setLimits({ errorRate: 0.3 });
    const c = createConnectorClient(ctx, fast);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => c.read('jira', `/jira/rest/api/3/search?assignee=u-${i}`, `u-${i}`)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await counterValue(ctx, 'openclaw_connector_retries_total', { connector: 'jira' })).toBeGreaterThan(0);
  });

  it('gives up with a typed error when the attempt budget is spent', async () => {
    await setLimits({ limits: { github: { perApp: { capacity: 1, refillPerSec: 0.01 } } } });
    const c = createConnectorClient(ctx, { ...fast, maxAttempts: 3, maxRetryAfterMs: 10 });
    await c.read('github', '/github/search/issues?q=x', 'u-1');
    const err = await c.read('github', '/github/search/issues?q=x', 'u-2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'rate_limited', attempts: 3 });
  });

  it('gives up when the time budget would be exceeded instead of waiting past it', async () => {
    await setLimits({ limits: { github: { perApp: { capacity: 1, refillPerSec: 0.01 } } } });
    const c = createConnectorClient(ctx, { ...fast, maxTotalMs: 500 });
    await c.read('github', '/github/search/issues?q=x', 'u-1');
    const t = Date.now();
    const err = await c.read('github', '/github/search/issues?q=x', 'u-2').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rate_limited' });
    // Waiting for the token would take 100 s; room for a busy machine.
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  it('does not retry a 404', async () => {
    const c = createConnectorClient(ctx, fast);
    const err = await c.read('gmail', '/gmail/v1/users/u-1/messages/nope', 'u-1').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not_found', attempts: 1, status: 404 });
  });

  it('retries connection failures and reports the connector unavailable', async () => {
    const dead = testContext({ upstreamUrl: 'http://127.0.0.1:1' });
    const c = createConnectorClient(dead, { ...fast, maxAttempts: 3 });
    const err = await c.read('gdrive', '/drive/v3/files?owner=u', 'u').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', attempts: 3 });
    expect(await counterValue(dead, 'openclaw_connector_retries_total', { connector: 'gdrive' })).toBe(2);
    for (const f of dead.onClose) await f();
  });
});
