// The audit store on both of its engines: a throwaway database on the PostgreSQL server
// (CLAWSTORM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres) and the PGlite
// wire server started here as its own process. Same assertions on both: migrate is idempotent
// (also when run concurrently), month partitions route rows, the table is append-only, the
// writer's acknowledged ids are all found, three processes writing at once lose nothing, and
// explicit transactions of concurrent clients stay isolated.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrlFor, dropDatabase } from '../../harness/db/admin.ts';
import { migrate } from '../../harness/db/migrate.ts';
import { pgliteUrl } from '../../harness/db/pglite-config.ts';
import { createPool } from '../../harness/db/pool.ts';
import { createLogger } from '../../harness/common/log.ts';
import { createAuditWriter, exportAudit, getAuditEntry, queryAudit } from '../../harness/gateway/audit.ts';
import type { AuditEntryInput, BaseContext } from '../../harness/gateway/context.ts';
import { createGatewayMetrics } from '../../harness/gateway/metrics.ts';
import { freePort } from '../../src/util/ports.ts';
import { waitFor } from '../../src/util/wait.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PG_URL_SET = process.env.CLAWSTORM_TEST_PG_URL;
const PG_ADMIN_URL = PG_URL_SET ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

// A PostgreSQL named explicitly must be there; the default one is used when it is running.
const pgAvailable = await reachable(PG_ADMIN_URL);
if (!pgAvailable) {
  if (PG_URL_SET !== undefined) throw new Error(`CLAWSTORM_TEST_PG_URL is set but unreachable`);
  process.stderr.write(`[audit-store] no PostgreSQL at ${PG_ADMIN_URL}: the postgres half of this suite is SKIPPED (set CLAWSTORM_TEST_PG_URL to require it)\n`);
}

interface Engine {
  url: string;
  stop(): Promise<void>;
  restart?(): Promise<void>;
}

async function startPostgres(): Promise<Engine> {
  const name = `clawstorm_it_${crypto.randomBytes(5).toString('hex')}`;
  const url = await createDatabase(PG_ADMIN_URL, name);
  return { url, stop: () => dropDatabase(PG_ADMIN_URL, name) };
}

async function startPglite(): Promise<Engine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawstorm-pglite-it-'));
  const port = await freePort();
  const configFile = path.join(dir, 'pglite.json');
  fs.writeFileSync(configFile, JSON.stringify({ host: '127.0.0.1', port, dataDir: path.join(dir, 'data'), maxConnections: 64, migrate: false }), { mode: 0o600 });
  const url = pgliteUrl({ host: '127.0.0.1', port });
  let child: ChildProcess | undefined;
  const log = path.join(dir, 'pglite.log');
  const start = async () => {
    const out = fs.openSync(log, 'a');
    child = spawn(process.execPath, [path.join(ROOT, 'harness/db/pglite-server.ts'), '--config', configFile], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    await waitFor(() => reachable(url), { timeoutMs: 60_000, intervalMs: 200, what: `PGlite wire server on port ${port} (log ${log})` });
  };
  const stop = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  await start();
  return {
    url,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ctxFor(db: pg.Pool): BaseContext {
  const metrics = createGatewayMetrics({ gateway: 'it', az: 'az-a', version: 'it', skillHash: 'abcd1234' });
  // Only what the audit functions use; the rest of a gateway is not needed here.
  return { db, metrics, log: createLogger('audit-store-it') } as unknown as BaseContext;
}

function entry(over: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    tenant_id: 'it-tenant',
    user_id: 'alice',
    action_type: 'email_read',
    action_detail: { q: 'x' },
    data_accessed: [{ kind: 'message', id: 'm1' }],
    model_used: null,
    model_tokens: null,
    data_classification: 'internal',
    policy_applied: 'baseline-allow-all@v1',
    policy_result: 'allow',
    policy_reason: 'ok',
    outcome: 'success',
    request_id: `req-${crypto.randomUUID()}`,
    ...over,
  };
}

function monthPartition(d: Date): string {
  return `audit.audit_entries_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const INSERT_AT = `INSERT INTO audit.audit_entries ("timestamp", tenant_id, user_id, action_type, data_classification, policy_result, outcome, request_id)
  VALUES ($1::timestamptz, 'routing', 'u', 'x', 'internal', 'allow', 'success', $2) RETURNING tableoid::regclass::text AS part`;

// One writer process: its own pool, N acknowledged audit writes plus explicit transactions that
// must stay isolated from the other processes' statements. Prints one JSON line.
const WRITER = `
import crypto from 'node:crypto';
import { createPool } from ${JSON.stringify(path.join(ROOT, 'harness/db/pool.ts'))};
import { createAuditWriter } from ${JSON.stringify(path.join(ROOT, 'harness/gateway/audit.ts'))};
import { createGatewayMetrics } from ${JSON.stringify(path.join(ROOT, 'harness/gateway/metrics.ts'))};
import { createLogger } from ${JSON.stringify(path.join(ROOT, 'harness/common/log.ts'))};
const [url, nRaw, tag] = process.argv.slice(1);
const n = Number(nRaw);
const db = createPool(url, 5);
const metrics = createGatewayMetrics({ gateway: tag, az: 'a', version: 'v', skillHash: 'abcd1234' });
const audit = createAuditWriter({ db, metrics, log: createLogger(tag) });
const ids = [];
let txBad = 0, errors = 0;
const writes = Array.from({ length: n }, (_, i) => audit.write({
  tenant_id: 'multi', user_id: tag, action_type: 'load', action_detail: { i }, data_accessed: [], data_classification: 'internal',
  policy_applied: null, policy_result: 'allow', policy_reason: null, outcome: 'success', request_id: tag + '-' + i,
}).then((r) => ids.push(r.id), () => errors++));
const txs = Array.from({ length: 20 }, async (_, i) => {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    await c.query('INSERT INTO public.tx_probe VALUES ($1, $2)', [tag, i]);
    await c.query('INSERT INTO public.tx_probe VALUES ($1, $2)', [tag, i]);
    const r = await c.query('SELECT count(*)::int AS n FROM public.tx_probe WHERE tag = $1 AND n = $2', [tag, i]);
    if (r.rows[0].n !== 2) txBad++;
    await c.query(i % 2 === 0 ? 'ROLLBACK' : 'COMMIT');
  } catch { errors++; try { await c.query('ROLLBACK'); } catch {} } finally { c.release(); }
});
await Promise.all([...writes, ...txs]);
const committed = (await db.query('SELECT count(*)::int AS n FROM public.tx_probe WHERE tag = $1', [tag])).rows[0].n;
await db.end();
process.stdout.write(JSON.stringify({ tag, ids, txBad, errors, committed }) + '\\n');
`;

function runWriter(url: string, n: number, tag: string): Promise<{ tag: string; ids: string[]; txBad: number; errors: number; committed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, url, String(n), tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`writer ${tag} exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as { tag: string; ids: string[]; txBad: number; errors: number; committed: number });
      } catch (e) {
        reject(new Error(`writer ${tag} printed no result: ${out} ${err.slice(-2000)} (${(e as Error).message})`));
      }
    });
  });
}

const ENGINES = [
  { name: 'postgres', start: startPostgres, enabled: pgAvailable },
  { name: 'pglite', start: startPglite, enabled: true },
] as const;

for (const eng of ENGINES) {
  describe.skipIf(!eng.enabled)(`audit store on ${eng.name}`, () => {
    let engine: Engine;
    let pool: pg.Pool;

    beforeAll(async () => {
      engine = await eng.start();
      await migrate(engine.url);
      pool = createPool(engine.url, 4);
    });
    afterAll(async () => {
      await pool?.end().catch(() => {});
      await engine?.stop();
    });

    it('migrate is idempotent, also when three run at once', async () => {
      const shape = async () =>
        (
          await pool.query<{ n: string; parts: string; seeds: string }>(
            `SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.audit_entries'::regclass)::text AS parts,
                    (SELECT count(*) FROM policy.policies WHERE name = 'baseline-allow-all')::text AS seeds,
                    (SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_entries_no_truncate')::text AS n`,
          )
        ).rows[0];
      const before = await shape();
      await migrate(engine.url);
      await Promise.all([migrate(engine.url), migrate(engine.url), migrate(engine.url)]);
      expect(await shape()).toEqual(before);
      // -2…+3 months around now, plus the default partition; a TRUNCATE guard on each and on the parent.
      expect(before?.parts).toBe('7');
      expect(before?.n).toBe('8');
      expect(before?.seeds).toBe('7');
    });

    it('routes each row to the partition of its month; far-future rows land in the default partition', async () => {
      const now = new Date();
      const cases: Array<[Date, string]> = [
        [now, monthPartition(now)],
        [new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 15)), monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 15)))],
        [new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 3, 28, 23, 59, 59)), monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 3, 28)))],
        // First instant of next month belongs to next month, not this one.
        [new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)), monthPartition(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)))],
        [new Date(Date.UTC(2300, 0, 1)), 'audit.audit_entries_default'],
        [new Date(Date.UTC(2001, 0, 1)), 'audit.audit_entries_default'],
      ];
      for (const [at, want] of cases) {
        const r = await pool.query<{ part: string }>(INSERT_AT, [at.toISOString(), `route-${at.toISOString()}`]);
        expect(r.rows[0]?.part, at.toISOString()).toBe(want);
      }
      // Routing seen from the read side too.
      const far = await pool.query<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM audit.audit_entries WHERE tenant_id = 'routing' AND "timestamp" >= '2300-01-01'`);
      expect(far.rows.map((r) => r.part)).toEqual(['audit.audit_entries_default']);
    });

    it('is append-only: UPDATE, DELETE and TRUNCATE raise, on the parent and on a partition', async () => {
      const part = monthPartition(new Date());
      await expect(pool.query(`UPDATE audit.audit_entries SET user_id = 'mallory' WHERE tenant_id = 'routing'`)).rejects.toThrow(/append-only: UPDATE rejected/);
      await expect(pool.query(`DELETE FROM audit.audit_entries WHERE tenant_id = 'routing'`)).rejects.toThrow(/append-only: DELETE rejected/);
      await expect(pool.query(`UPDATE ${part} SET user_id = 'mallory'`)).rejects.toThrow(/append-only/);
      await expect(pool.query(`DELETE FROM ${part}`)).rejects.toThrow(/append-only/);
      await expect(pool.query('TRUNCATE audit.audit_entries')).rejects.toThrow(/append-only: TRUNCATE rejected/);
      await expect(pool.query(`TRUNCATE ${part}`)).rejects.toThrow(/append-only: TRUNCATE rejected/);
      await expect(pool.query('TRUNCATE audit.audit_entries_default')).rejects.toThrow(/append-only: TRUNCATE rejected/);
      const n = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit.audit_entries WHERE tenant_id = 'routing'`);
      expect(Number(n.rows[0]?.n)).toBeGreaterThanOrEqual(6);
    });

    it('the writer resolves with the id only after the row is stored; query, get and export find it', async () => {
      const ctx = ctxFor(pool);
      const writer = createAuditWriter(ctx);
      const tenant = `q-${crypto.randomBytes(4).toString('hex')}`;
      const acks: Array<{ id: string; timestamp: string }> = [];
      for (let i = 0; i < 25; i++) {
        acks.push(await writer.write(entry({ tenant_id: tenant, user_id: i % 2 === 0 ? 'alice' : 'bob', action_type: i % 5 === 0 ? 'policy_change' : 'email_read', model_tokens: i, model_used: 'm' })));
      }
      expect((await ctx.metrics.auditWrites.get()).values[0]?.value).toBe(25);

      const first = acks[0]!;
      const got = await getAuditEntry(ctx, tenant, first.id);
      expect(got).toMatchObject({ id: first.id, timestamp: first.timestamp, tenant_id: tenant, user_id: 'alice', action_detail: { q: 'x' }, data_accessed: [{ kind: 'message', id: 'm1' }], model_tokens: 0 });
      expect(await getAuditEntry(ctx, 'another-tenant', first.id)).toBeUndefined();

      // Newest first; equal timestamps (same millisecond) by id, descending.
      const newestFirst = [...acks]
        .sort((a, b) => (a.timestamp === b.timestamp ? (a.id < b.id ? 1 : -1) : a.timestamp < b.timestamp ? 1 : -1))
        .map((a) => a.id);
      const all = await queryAudit(ctx, tenant, {}, 1, 10);
      expect(all).toMatchObject({ total: 25, page: 1, page_size: 10, has_more: true });
      expect(all.entries.map((e) => e.id)).toEqual(newestFirst.slice(0, 10));
      const last = await queryAudit(ctx, tenant, {}, 3, 10);
      expect(last).toMatchObject({ total: 25, has_more: false });
      expect(last.entries).toHaveLength(5);
      expect((await queryAudit(ctx, tenant, { user_id: 'bob' }, 1, 100)).total).toBe(12);
      expect((await queryAudit(ctx, tenant, { action_type: 'policy_change' }, 1, 100)).total).toBe(5);
      expect((await queryAudit(ctx, tenant, { request_id: first.id }, 1, 100)).total).toBe(0);
      const byReq = await queryAudit(ctx, tenant, { request_id: got?.request_id ?? '' }, 1, 100);
      expect(byReq.entries.map((e) => e.id)).toEqual([first.id]);
      const window = await queryAudit(ctx, tenant, { from: new Date(acks[5]!.timestamp), to: new Date(acks[9]!.timestamp) }, 1, 100);
      expect(window.total).toBeGreaterThanOrEqual(5);
      expect(window.entries.every((e) => e.timestamp >= acks[5]!.timestamp && e.timestamp <= acks[9]!.timestamp)).toBe(true);

      // Export in batches of 4: every row once, newest first, bounded by limit.
      const exported: string[] = [];
      for await (const e of exportAudit(ctx, tenant, {}, 1_000, 4)) exported.push(e.id);
      expect(exported).toEqual(newestFirst);
      const limited: string[] = [];
      for await (const e of exportAudit(ctx, tenant, {}, 7, 4)) limited.push(e.id);
      expect(limited).toEqual(exported.slice(0, 7));
    });

    it('three processes with their own pools write at once: every acknowledged id is stored exactly once; transactions stay isolated', async () => {
      await pool.query('CREATE TABLE IF NOT EXISTS public.tx_probe (tag text, n int)');
      const N = 300;
      const t0 = Date.now();
      const results = await Promise.all(['w1', 'w2', 'w3'].map((t) => runWriter(engine.url, N, `${t}-${crypto.randomBytes(3).toString('hex')}`)));
      const ms = Date.now() - t0;
      process.stderr.write(`[audit-store] ${eng.name}: 3 processes × ${N} audit writes + 20 transactions each in ${ms} ms\n`);
      for (const r of results) {
        expect(r.errors, r.tag).toBe(0);
        expect(r.txBad, r.tag).toBe(0);
        expect(r.ids, r.tag).toHaveLength(N);
        // Odd-numbered transactions committed (2 rows each), even ones rolled back.
        expect(r.committed, r.tag).toBe(20);
      }
      const ids = results.flatMap((r) => r.ids);
      const found = await pool.query<{ id: string; n: string }>('SELECT id::text AS id, count(*)::text AS n FROM audit.audit_entries WHERE id = ANY($1::uuid[]) GROUP BY id', [ids]);
      expect(found.rows).toHaveLength(3 * N);
      expect(found.rows.every((r) => r.n === '1')).toBe(true);
    });

    it.runIf(eng.name === 'pglite')('a restart of the wire server keeps the data (on-disk data directory)', async () => {
      const before = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit.audit_entries');
      await pool.end();
      await engine.restart?.();
      pool = createPool(engine.url, 4);
      const after = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit.audit_entries');
      expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
    });
  });
}

it('databaseUrlFor swaps only the database name', () => {
  expect(databaseUrlFor('postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable', 'x_1')).toBe('postgres://u:p@127.0.0.1:5432/x_1?sslmode=disable');
});
