// Verification after a scenario: what the target acknowledged is looked up again, so "zero
// dropped" is a count, not an assumption (plan §2).
import pg from 'pg';
import { request } from 'undici';
import { z } from 'zod';
import type { Ack } from './journey.ts';

export interface AuditLookupResult {
  acknowledged: number;
  found: number;
  dropped: number;
  via: 'sql' | 'api';
  /** A lookup that could not finish: the figure is then not trusted (no data). */
  incomplete?: string;
}

export interface AuditLookupOptions {
  /** SQL when a DSN is given (the local test bed knows its own). */
  databaseUrl?: string;
  /** Otherwise the Enterprise audit API, paged over the scenario window. */
  apiBaseUrl: string;
  token: string;
  tenant?: string;
  from: Date;
  to: Date;
  signal?: AbortSignal;
}

export async function auditLookup(acks: readonly Ack[], opts: AuditLookupOptions): Promise<AuditLookupResult> {
  const ids = [...new Set(acks.map((a) => a.auditId))];
  if (opts.databaseUrl !== undefined) return { ...(await viaSql(ids, opts.databaseUrl)), acknowledged: ids.length, via: 'sql' };
  return { ...(await viaApi(ids, opts)), acknowledged: ids.length, via: 'api' };
}

async function viaSql(ids: string[], databaseUrl: string): Promise<{ found: number; dropped: number }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'clawstorm-verify' });
  await client.connect();
  try {
    let found = 0;
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000);
      const r = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM audit.audit_entries WHERE id::text = ANY($1::text[])', [batch]);
      found += Number(r.rows[0]?.n ?? 0);
    }
    return { found, dropped: ids.length - found };
  } finally {
    await client.end();
  }
}

const PageWire = z.object({
  entries: z.array(z.object({ id: z.string() }).passthrough()),
  has_more: z.boolean(),
});

async function viaApi(ids: string[], opts: AuditLookupOptions): Promise<{ found: number; dropped: number; incomplete?: string }> {
  const want = new Set(ids);
  const seen = new Set<string>();
  // Bounded: enough pages for every id plus other traffic in the window, and a time limit.
  const maxPages = Math.ceil(ids.length / 1000) + 100;
  const deadline = Date.now() + 10 * 60_000;
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token}` };
  if (opts.tenant !== undefined) headers['x-tenant-id'] = opts.tenant;
  for (let page = 1; page <= maxPages; page++) {
    if (Date.now() > deadline) return { found: seen.size, dropped: ids.length - seen.size, incomplete: 'audit API lookup ran out of time' };
    const qs = new URLSearchParams({ from: opts.from.toISOString(), to: opts.to.toISOString(), page: String(page), page_size: '1000' });
    const res = await request(`${opts.apiBaseUrl}/api/v1/audit?${qs}`, { headers, signal: opts.signal });
    if (res.statusCode === 429) {
      await res.body.dump();
      const wait = Math.min(60, Number(res.headers['retry-after'] ?? 1) || 1);
      await new Promise((r) => setTimeout(r, wait * 1000));
      page -= 1;
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { found: seen.size, dropped: ids.length - seen.size, incomplete: `audit API answered ${res.statusCode} on page ${page}` };
    }
    const body = PageWire.parse(await res.body.json());
    for (const e of body.entries) if (want.has(e.id)) seen.add(e.id);
    if (!body.has_more || seen.size === want.size) return { found: seen.size, dropped: ids.length - seen.size };
  }
  return { found: seen.size, dropped: ids.length - seen.size, incomplete: `audit API lookup stopped after ${maxPages} pages` };
}
