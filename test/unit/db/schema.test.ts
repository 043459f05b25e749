import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySchema } from '../../../harness/db/migrate.ts';
import { endsUnit } from '../../../harness/db/pglite-mux.ts';

// The schema on an in-process, in-memory PGlite (nothing to start): the same SQL the wire
// server and PostgreSQL run. The server paths are covered by test/integration/audit-store.test.ts.

const INSERT = `INSERT INTO audit.audit_entries ("timestamp", tenant_id, user_id, action_type, data_classification, policy_result, outcome, request_id)
  VALUES ($1::timestamptz, 't', 'u', 'x', 'internal', 'allow', 'success', $2) RETURNING id, tableoid::regclass::text AS part`;

describe('schema on in-process PGlite', () => {
  let db: PGlite;
  // Booting the WASM database takes seconds on a busy machine: more than the default hook timeout.
  beforeAll(async () => {
    db = await PGlite.create();
    await applySchema((sql) => db.exec(sql));
  }, 60_000);
  afterAll(async () => {
    await db.close();
  });

  it('applies twice (idempotent) and seeds the baseline once', async () => {
    await applySchema((sql) => db.exec(sql));
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM policy.policies WHERE name = 'baseline-allow-all'`);
    expect(r.rows[0]?.n).toBe(7);
  });

  it('routes rows to their month, and far-future rows to the default partition', async () => {
    const now = new Date();
    const tag = `${now.getUTCFullYear()}m${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const a = await db.query<{ part: string }>(INSERT, [now.toISOString(), 'r1']);
    expect(a.rows[0]?.part).toBe(`audit.audit_entries_y${tag}`);
    const b = await db.query<{ part: string }>(INSERT, ['2300-06-01T00:00:00Z', 'r2']);
    expect(b.rows[0]?.part).toBe('audit.audit_entries_default');
  });

  it('rejects UPDATE, DELETE and TRUNCATE', async () => {
    await expect(db.query(`UPDATE audit.audit_entries SET user_id = 'z'`)).rejects.toThrow(/append-only: UPDATE/);
    await expect(db.query('DELETE FROM audit.audit_entries')).rejects.toThrow(/append-only: DELETE/);
    await expect(db.query('TRUNCATE audit.audit_entries')).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it('every policy change bumps the revision', async () => {
    const before = (await db.query<{ r: string }>('SELECT revision::text AS r FROM policy.revision')).rows[0]?.r;
    await db.query(`UPDATE policy.policies SET change_reason = 'touched' WHERE name = 'baseline-allow-all' AND domain = 'audit'`);
    const after = (await db.query<{ r: string }>('SELECT revision::text AS r FROM policy.revision')).rows[0]?.r;
    expect(Number(after)).toBe(Number(before) + 1);
  });
});

describe('wire multiplexer protocol units', () => {
  const msg = (type: string, len = 4) => {
    const b = new Uint8Array(1 + len);
    b[0] = type.charCodeAt(0);
    new DataView(b.buffer).setInt32(1, len);
    return b;
  };
  it('a unit ends at Sync, simple Query, Terminate and the startup packet; not at Parse/Bind/Execute', () => {
    for (const t of ['S', 'Q', 'X']) expect(endsUnit(msg(t))).toBe(true);
    for (const t of ['P', 'B', 'D', 'E', 'H', 'C']) expect(endsUnit(msg(t))).toBe(false);
    const startup = new Uint8Array(8);
    new DataView(startup.buffer).setInt32(0, 8);
    new DataView(startup.buffer).setInt32(4, 196_608);
    expect(endsUnit(startup)).toBe(true);
  });
});
