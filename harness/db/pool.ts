import pg from 'pg';

export type Pool = pg.Pool;

/**
 * One pg pool per process. Works the same against a PostgreSQL server and against the PGlite
 * wire server of the test bed (which multiplexes its single session, hence small pools there).
 */
export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'clawstorm',
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}
