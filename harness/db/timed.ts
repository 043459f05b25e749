import type pg from 'pg';

export type QueryObserver = (op: string, seconds: number, ok: boolean) => void;

/** One query, timed under an operation name (`openclaw_db_query_duration_seconds{op}`). */
export async function timedQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: pg.Pool,
  observe: QueryObserver,
  op: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  const t0 = performance.now();
  let ok = false;
  try {
    const res = await db.query<R>(text, values);
    ok = true;
    return res;
  } finally {
    observe(op, (performance.now() - t0) / 1000, ok);
  }
}
