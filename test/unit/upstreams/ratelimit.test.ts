import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch, DEFAULT_TUNABLES, UpstreamsConfigSchema } from '../../../harness/upstreams/config.ts';
import { RateLimiter, TokenBucket } from '../../../harness/upstreams/ratelimit.ts';
import { buildUpstreams } from '../../../harness/upstreams/server.ts';

describe('TokenBucket', () => {
  it('admits a burst of its capacity, then refills at its rate', () => {
    const b = new TokenBucket({ capacity: 3, refillPerSec: 2 }, 0);
    for (let i = 0; i < 3; i++) {
      expect(b.waitFor(1, 0)).toBe(0);
      b.take(1, 0);
    }
    expect(b.waitFor(1, 0)).toBeCloseTo(0.5);
    expect(b.waitFor(1, 250)).toBeCloseTo(0.25);
    expect(b.waitFor(1, 500)).toBe(0);
  });

  it('never holds more than its capacity', () => {
    const b = new TokenBucket({ capacity: 2, refillPerSec: 100 }, 0);
    expect(b.waitFor(3, 60_000)).toBeCloseTo(0.01);
  });
});

describe('RateLimiter', () => {
  const tight = (patch: Parameters<typeof applyPatch>[1]) => applyPatch({ ...DEFAULT_TUNABLES, global: null }, patch);

  it('limits per (provider, user): another user or provider is not affected', () => {
    let now = 1_000;
    const rl = new RateLimiter(tight({ limits: { gmail: { costPerRequest: 5, perUser: { capacity: 10, refillPerSec: 5 }, perApp: null } } }), () => now);
    expect(rl.admit('gmail', 'a')).toEqual({ ok: true });
    expect(rl.admit('gmail', 'a')).toEqual({ ok: true });
    // 10 units spent; the next 5 need one second at 5 units/s.
    expect(rl.admit('gmail', 'a')).toEqual({ ok: false, retryAfterS: 1, scope: 'user' });
    expect(rl.admit('gmail', 'b')).toEqual({ ok: true });
    expect(rl.admit('jira', 'a')).toEqual({ ok: true });
    now += 1_000;
    expect(rl.admit('gmail', 'a')).toEqual({ ok: true });
  });

  it('the app bucket is shared by all users, Retry-After rounds up to whole seconds', () => {
    const now = 0;
    const rl = new RateLimiter(tight({ limits: { github: { costPerRequest: 1, perUser: null, perApp: { capacity: 2, refillPerSec: 0.25 } } } }), () => now);
    expect(rl.admit('github', 'a').ok).toBe(true);
    expect(rl.admit('github', 'b').ok).toBe(true);
    expect(rl.admit('github', 'c')).toEqual({ ok: false, retryAfterS: 4, scope: 'app' });
  });

  it('a global bucket spans providers; a refused request is not charged', () => {
    let now = 0;
    const rl = new RateLimiter(
      applyPatch(DEFAULT_TUNABLES, { global: { capacity: 2, refillPerSec: 1 }, limits: { jira: { perUser: { capacity: 1, refillPerSec: 0.1 } } } }),
      () => now,
    );
    expect(rl.admit('jira', 'a').ok).toBe(true);
    // Refused by the per-user bucket (10 s), which must not spend the global token.
    expect(rl.admit('jira', 'a')).toEqual({ ok: false, retryAfterS: 10, scope: 'user' });
    expect(rl.admit('gdrive', 'a').ok).toBe(true);
    expect(rl.admit('calendar', 'a')).toMatchObject({ ok: false, scope: 'global' });
    now += 1_000;
    expect(rl.admit('calendar', 'a').ok).toBe(true);
  });
});

describe('upstreams HTTP', () => {
  const config = UpstreamsConfigSchema.parse({
    port: 1,
    anchorDate: '2026-03-10',
    adminToken: 'admin-token-0123456789',
    latencyMs: { base: 0, jitter: 0 },
    limits: { github: { perApp: { capacity: 2, refillPerSec: 0.5 } } },
  });
  const { app } = buildUpstreams(config);
  const admin = { authorization: 'Bearer admin-token-0123456789' };
  beforeAll(async () => {
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 429 with Retry-After (seconds) and the scope once a bucket is empty', async () => {
    const get = () => app.inject({ url: '/github/search/issues?q=is:pr', headers: { authorization: 'Bearer user:u-1' } });
    expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(200);
    const r = await get();
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.headers['x-ratelimit-scope']).toBe('app');
    const stats = (await app.inject({ url: '/admin/stats', headers: admin })).json();
    expect(stats.providers.github).toMatchObject({ requests: 3, rateLimited: 1 });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('upstream_requests_total{provider="github",status="429"} 1');
  });

  it('PUT /admin/config changes limits at runtime (admin token required)', async () => {
    expect((await app.inject({ method: 'PUT', url: '/admin/config', payload: {} })).statusCode).toBe(401);
    const r = await app.inject({ method: 'PUT', url: '/admin/config', headers: admin, payload: { limits: { jira: { perUser: { capacity: 1, refillPerSec: 1 } } } } });
    expect(r.statusCode).toBe(200);
    expect(r.json().limits.jira.perUser).toEqual({ capacity: 1, refillPerSec: 1 });
    // Untouched fields keep their values.
    expect(r.json().limits.jira.perApp).toEqual(DEFAULT_TUNABLES.limits.jira.perApp);
    const get = () => app.inject({ url: '/jira/rest/api/3/search?assignee=u-2' });
    expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(429);
    expect((await app.inject({ method: 'PUT', url: '/admin/config', headers: admin, payload: { limits: { jira: { perUser: { capacity: -1 } } } } })).statusCode).toBe(400);
  });

  it('serves deterministic per-user data of realistic size', async () => {
    await app.inject({ method: 'PUT', url: '/admin/config', headers: admin, payload: { limits: { jira: { perUser: null } } } });
    const reads = [
      '/gmail/v1/users/u-9/messages?maxResults=500',
      '/jira/rest/api/3/search?assignee=u-9',
      '/github/search/issues?q=involves:u-9',
      '/drive/v3/files?owner=u-9',
    ];
    await app.inject({ method: 'PUT', url: '/admin/config', headers: admin, payload: { limits: { github: { perApp: null } } } });
    for (const url of reads) {
      const a = await app.inject({ url, headers: { authorization: 'Bearer user:u-9' } });
      const b = await app.inject({ url, headers: { authorization: 'Bearer user:u-9' } });
      expect(a.statusCode).toBe(200);
      expect(a.body).toBe(b.body);
      const body = a.json();
      const n = (body.messages ?? body.issues ?? body.files ?? []).length;
      if (url.startsWith('/github')) expect(body.total_count).toBeGreaterThanOrEqual(1);
      else {
        expect(n).toBeGreaterThanOrEqual(20);
        expect(n).toBeLessThanOrEqual(60);
      }
    }
    const cal = (await app.inject({ url: '/calendar/v3/calendars/u-9/events?timeMin=2026-03-10T00:00:00Z&timeMax=2026-03-11T00:00:00Z' })).json();
    expect(cal.items.length).toBeGreaterThanOrEqual(4);
    for (const e of cal.items) {
      expect(e.start.dateTime >= '2026-03-10T08:00').toBe(true);
      expect(e.end.dateTime <= '2026-03-10T18:00:00.000Z').toBe(true);
    }
    const other = (await app.inject({ url: '/drive/v3/files?owner=u-10' })).body;
    expect(other).not.toBe((await app.inject({ url: '/drive/v3/files?owner=u-9' })).body);
  });

  it('looks items up by id and answers 404 for unknown ones', async () => {
    const list = (await app.inject({ url: '/gmail/v1/users/u-3/messages?maxResults=1' })).json();
    const id = list.messages[0].id as string;
    expect((await app.inject({ url: `/gmail/v1/users/u-3/messages/${id}` })).json().id).toBe(id);
    expect((await app.inject({ url: '/gmail/v1/users/u-3/messages/nope' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/drive/v3/files' })).statusCode).toBe(401);
  });
});
