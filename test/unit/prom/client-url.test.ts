import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromClient, PromError } from '../../../src/prom/client.ts';
import { clearSecrets, redact, registerUrlSecrets } from '../../../src/util/redact.ts';
import { startPrometheusDouble, type PrometheusDouble } from '../../support/prometheus-double.ts';

let prom: PrometheusDouble;
beforeAll(async () => {
  prom = await startPrometheusDouble('nan');
});
afterAll(async () => {
  await prom.close();
  clearSecrets();
});

describe('Prometheus URLs with credentials', () => {
  it('joins paths with the URL API: the path prefix and the query parameters are kept, userinfo becomes Basic auth', async () => {
    const port = new URL(prom.url).port;
    const c = new PromClient({ url: `http://admin:S3cr3t%2Fpw@127.0.0.1:${port}/prom/?api_key=K3y-abc&org=7` });
    await c.instant('up');
    const last = prom.requests.at(-1)!;
    expect(last.url).toBe('/prom/api/v1/query?api_key=K3y-abc&org=7');
    expect(last.authorization).toBe(`Basic ${Buffer.from('admin:S3cr3t/pw').toString('base64')}`);
    expect(c.url).toBe(`http://127.0.0.1:${port}/prom`);
  });

  it('registers the password, its Basic-auth form and credential query parameters as secrets', () => {
    clearSecrets();
    registerUrlSecrets('http://admin:PA55word@127.0.0.1:2/?api_key=KEY-123&page=2&access_token=tok-9');
    const basic = Buffer.from('admin:PA55word').toString('base64');
    const line = `GET http://admin:PA55word@h/?api_key=KEY-123&page=2&access_token=tok-9 Authorization: Basic ${basic}`;
    expect(redact(line)).toBe('GET http://admin:***@h/?api_key=***&page=2&access_token=*** Authorization: Basic ***');
  });

  it('an error names the endpoint without its credentials', async () => {
    clearSecrets();
    registerUrlSecrets('http://u:SeKrit@127.0.0.1:2/?api_key=AK-777');
    const c = new PromClient({ url: 'http://u:SeKrit@127.0.0.1:2/?api_key=AK-777', timeoutMs: 1_000 });
    const err = await c.instant('up').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromError);
    expect((err as PromError).message).toMatch(/http:\/\/127\.0\.0\.1:2\/api\/v1\/query/);
    expect((err as PromError).message).not.toMatch(/SeKrit|AK-777/);
    expect((err as PromError).url).not.toMatch(/SeKrit|AK-777/);
  });
});
