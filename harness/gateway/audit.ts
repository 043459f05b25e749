import crypto from 'node:crypto';
import type pg from 'pg';
import { timedQuery, type QueryObserver } from '../db/timed.ts';
import type { AuditEntryInput, AuditWriter, BaseContext } from './context.ts';

// Audit store access: the append-only writer every action goes through, and the read side of
// the Enterprise API (query, get by id, export). Table: audit.audit_entries (harness/db/schema.sql).

type DbContext = Pick<BaseContext, 'db' | 'metrics' | 'log'>;

// The audit columns in table order, each with the cast its placeholder carries: explicit casts
// because the placeholders are also used in INSERT … SELECT (the API's audited mutations),
// where PostgreSQL cannot infer parameter types from the target columns. The one list every
// INSERT, SELECT and export column order is derived from.
const AUDIT_COLUMN_TYPES = {
  id: 'uuid',
  timestamp: 'timestamptz',
  tenant_id: 'text',
  user_id: 'text',
  action_type: 'text',
  action_detail: 'jsonb',
  data_accessed: 'jsonb',
  model_used: 'text',
  model_tokens: 'integer',
  data_classification: 'text',
  policy_applied: 'text',
  policy_result: 'text',
  policy_reason: 'text',
  outcome: 'text',
  request_id: 'text',
} as const;
export type AuditField = keyof typeof AUDIT_COLUMN_TYPES;

/** Fields of an audit entry, in column order (the CSV export's columns). */
export const AUDIT_ENTRY_FIELDS = Object.keys(AUDIT_COLUMN_TYPES) as AuditField[];

/** SQL column names: `timestamp` is a keyword, so quoted. */
export const AUDIT_INSERT_COLUMNS: readonly string[] = AUDIT_ENTRY_FIELDS.map((f) => (f === 'timestamp' ? '"timestamp"' : f));

const SELECT_COLUMNS = AUDIT_INSERT_COLUMNS.join(', ');

/** `$n` placeholders for one audit row, starting after `offset` parameters already used. */
export function auditPlaceholders(offset: number): string {
  return AUDIT_ENTRY_FIELDS.map((f, i) => `$${offset + i + 1}::${AUDIT_COLUMN_TYPES[f]}`).join(', ');
}

/**
 * Parameters of one audit row. The id and timestamp are made here, not by the database, so a
 * retried insert whose first acknowledgement was lost hits the primary key instead of writing
 * the entry twice.
 */
export function auditParams(e: AuditEntryInput, id: string = crypto.randomUUID(), at: Date = new Date()): unknown[] {
  return [
    id,
    at.toISOString(),
    e.tenant_id,
    e.user_id,
    e.action_type,
    // pg would turn a JS array into a PostgreSQL array literal: send JSON text for jsonb.
    JSON.stringify(e.action_detail ?? {}),
    JSON.stringify(e.data_accessed ?? []),
    e.model_used ?? null,
    e.model_tokens ?? null,
    e.data_classification,
    e.policy_applied,
    e.policy_result,
    e.policy_reason,
    e.outcome,
    e.request_id,
  ];
}

export function dbObserver(ctx: Pick<BaseContext, 'metrics'>): QueryObserver {
  return (op, seconds) => ctx.metrics.dbQueryDuration.observe({ op }, seconds);
}

export function query<R extends pg.QueryResultRow = Record<string, unknown>>(
  ctx: Pick<BaseContext, 'db' | 'metrics'>,
  op: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  return timedQuery<R>(ctx.db, dbObserver(ctx), op, text, values);
}

// Connection-level failures after which the insert may or may not have committed; retrying is
// safe because the primary key (id, timestamp) is fixed before the first attempt.
function retryable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e.code === 'string' && (e.code.startsWith('08') || e.code === '57P01' || e.code === '57P02' || e.code === '57P03' || e.code === '40001')) return true;
  if (e.code === 'ECONNRESET' || e.code === 'ECONNREFUSED' || e.code === 'EPIPE') return true;
  return typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect/i.test(e.message);
}

const INSERT_SQL = `INSERT INTO audit.audit_entries (${AUDIT_INSERT_COLUMNS.join(', ')})
  VALUES (${auditPlaceholders(0)})
  ON CONFLICT (id, "timestamp") DO NOTHING`;

const WRITE_ATTEMPTS = 3;

export function createAuditWriter(ctx: BaseContext): AuditWriter {
  return {
    async write(entry) {
      const id = crypto.randomUUID();
      const at = new Date();
      const params = auditParams(entry, id, at);
      const t0 = performance.now();
      for (let attempt = 1; ; attempt++) {
        try {
          await query(ctx, 'audit_insert', INSERT_SQL, params);
          ctx.metrics.auditWrites.inc();
          ctx.metrics.auditWriteDuration.observe((performance.now() - t0) / 1000);
          return { id, timestamp: at.toISOString() };
        } catch (err) {
          if (attempt < WRITE_ATTEMPTS && retryable(err)) {
            await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 50));
            continue;
          }
          ctx.metrics.auditWriteFailures.inc();
          ctx.metrics.auditWriteDuration.observe((performance.now() - t0) / 1000);
          ctx.log.error('audit write failed', { err: (err as Error).message, request_id: entry.request_id, attempts: attempt });
          throw err;
        }
      }
    },
  };
}

/** Count an audit row written inside another statement (the CTEs of the API's mutations). */
export function countAuditWrite(ctx: Pick<BaseContext, 'metrics'>, seconds: number, ok: boolean): void {
  if (ok) ctx.metrics.auditWrites.inc();
  else ctx.metrics.auditWriteFailures.inc();
  ctx.metrics.auditWriteDuration.observe(seconds);
}

/**
 * A data change and its audit entry in one statement (a data-modifying CTE), so either both are
 * stored or neither, without a multi-statement transaction (which the PGlite wire server would
 * serialise for everyone). `mutation` must end in RETURNING; the audit row is written only when
 * it affected a row. Returns the mutation's rows and, when written, the audit entry's id.
 */
export async function auditedMutation(
  ctx: DbContext,
  op: string,
  mutation: { sql: string; params: unknown[] },
  entry: AuditEntryInput,
): Promise<{ rows: Array<Record<string, unknown>>; audit?: { id: string; timestamp: string } }> {
  const id = crypto.randomUUID();
  const at = new Date();
  const offset = mutation.params.length;
  const sql = `WITH main AS (${mutation.sql}),
  audit_row AS (
    INSERT INTO audit.audit_entries (${AUDIT_INSERT_COLUMNS.join(', ')})
    SELECT ${auditPlaceholders(offset)} WHERE EXISTS (SELECT 1 FROM main)
  )
  SELECT * FROM main`;
  const t0 = performance.now();
  let res: pg.QueryResult;
  try {
    res = await query(ctx, op, sql, [...mutation.params, ...auditParams(entry, id, at)]);
  } catch (err) {
    // Constraint errors of the mutation (duplicate name, …) are not audit-store failures.
    const code = (err as { code?: string }).code;
    if (code === undefined || !code.startsWith('23')) countAuditWrite(ctx, (performance.now() - t0) / 1000, false);
    throw err;
  }
  if (res.rows.length === 0) return { rows: [] };
  countAuditWrite(ctx, (performance.now() - t0) / 1000, true);
  return { rows: res.rows, audit: { id, timestamp: at.toISOString() } };
}

// ----------------------------------------------------------------------------------------------
// Read side
// ----------------------------------------------------------------------------------------------

export interface AuditEntry {
  id: string;
  timestamp: string;
  tenant_id: string;
  user_id: string;
  action_type: string;
  action_detail: unknown;
  data_accessed: unknown;
  model_used: string | null;
  model_tokens: number | null;
  data_classification: string;
  policy_applied: string | null;
  policy_result: string;
  policy_reason: string | null;
  outcome: string;
  request_id: string;
}

// Every column is a field of AuditEntry (checked here, where both are known).
const _fieldsAreEntryKeys: readonly (keyof AuditEntry)[] = AUDIT_ENTRY_FIELDS;
void _fieldsAreEntryKeys;

export interface AuditFilters {
  user_id?: string;
  action_type?: string;
  request_id?: string;
  /** Inclusive bounds on `timestamp`. */
  from?: Date;
  to?: Date;
}

function toEntry(row: Record<string, unknown>): AuditEntry {
  const ts = row.timestamp;
  return {
    id: String(row.id),
    timestamp: ts instanceof Date ? ts.toISOString() : String(ts),
    tenant_id: String(row.tenant_id),
    user_id: String(row.user_id),
    action_type: String(row.action_type),
    action_detail: row.action_detail,
    data_accessed: row.data_accessed,
    model_used: (row.model_used as string | null) ?? null,
    model_tokens: row.model_tokens === null || row.model_tokens === undefined ? null : Number(row.model_tokens),
    data_classification: String(row.data_classification),
    policy_applied: (row.policy_applied as string | null) ?? null,
    policy_result: String(row.policy_result),
    policy_reason: (row.policy_reason as string | null) ?? null,
    outcome: String(row.outcome),
    request_id: String(row.request_id),
  };
}

/** WHERE clause for a tenant and filters; every value is a parameter. */
export function auditWhere(tenant: string, f: AuditFilters): { sql: string; params: unknown[] } {
  const params: unknown[] = [tenant];
  const parts = ['tenant_id = $1'];
  const add = (cond: (n: string) => string, v: unknown) => {
    params.push(v);
    parts.push(cond(`$${params.length}`));
  };
  if (f.user_id !== undefined) add((n) => `user_id = ${n}`, f.user_id);
  if (f.action_type !== undefined) add((n) => `action_type = ${n}`, f.action_type);
  if (f.request_id !== undefined) add((n) => `request_id = ${n}`, f.request_id);
  if (f.from !== undefined) add((n) => `"timestamp" >= ${n}::timestamptz`, f.from.toISOString());
  if (f.to !== undefined) add((n) => `"timestamp" <= ${n}::timestamptz`, f.to.toISOString());
  return { sql: parts.join(' AND '), params };
}

export interface AuditPage {
  entries: AuditEntry[];
  total: number;
  page: number;
  page_size: number;
  has_more: boolean;
}

export async function queryAudit(ctx: DbContext, tenant: string, f: AuditFilters, page: number, pageSize: number): Promise<AuditPage> {
  const w = auditWhere(tenant, f);
  const n = w.params.length;
  // Two independent statements, run side by side (no transaction needed: the count is a
  // figure for paging, not a promise about the page).
  const [rows, count] = await Promise.all([
    query(ctx, 'audit_query', `SELECT ${SELECT_COLUMNS} FROM audit.audit_entries WHERE ${w.sql} ORDER BY "timestamp" DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...w.params,
      pageSize,
      (page - 1) * pageSize,
    ]),
    query<{ total: string }>(ctx, 'audit_count', `SELECT count(*)::bigint AS total FROM audit.audit_entries WHERE ${w.sql}`, w.params),
  ]);
  const total = Number(count.rows[0]?.total ?? 0);
  return {
    entries: rows.rows.map(toEntry),
    total,
    page,
    page_size: pageSize,
    has_more: page * pageSize < total,
  };
}

export async function getAuditEntry(ctx: DbContext, tenant: string, id: string): Promise<AuditEntry | undefined> {
  const res = await query(ctx, 'audit_get', `SELECT ${SELECT_COLUMNS} FROM audit.audit_entries WHERE id = $1::uuid AND tenant_id = $2`, [id, tenant]);
  const row = res.rows[0];
  return row === undefined ? undefined : toEntry(row);
}

/**
 * Matching entries newest first, fetched in keyset-paginated batches so an export of any size
 * holds one batch in memory; stops after `limit` rows.
 */
export async function* exportAudit(ctx: DbContext, tenant: string, f: AuditFilters, limit: number, batchSize = 1_000): AsyncGenerator<AuditEntry> {
  let sent = 0;
  let cursor: { ts: string; id: string } | undefined;
  while (sent < limit) {
    const w = auditWhere(tenant, f);
    let sql = w.sql;
    const params = [...w.params];
    if (cursor !== undefined) {
      params.push(cursor.ts, cursor.id);
      sql += ` AND ("timestamp", id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    const take = Math.min(batchSize, limit - sent);
    params.push(take);
    // The cursor keeps full microsecond precision (a JS Date would cut it to milliseconds).
    const res = await query(
      ctx,
      'audit_export',
      `SELECT ${SELECT_COLUMNS}, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_ts
         FROM audit.audit_entries WHERE ${sql} ORDER BY "timestamp" DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    for (const row of res.rows) {
      yield toEntry(row);
      sent++;
    }
    const last = res.rows[res.rows.length - 1];
    if (res.rows.length < take || last === undefined) return;
    cursor = { ts: String(last.cursor_ts), id: String(last.id) };
  }
}
