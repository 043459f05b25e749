import pg from 'pg';

// Throwaway databases on a shared PostgreSQL server: a test bed (or a test run) gets its own
// database so it never touches a developer's data, and drops it afterwards.

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function assertName(name: string): void {
  if (!NAME.test(name)) throw new Error(`invalid database name '${name}' (lower-case letters, digits, _ only)`);
}

/** The same server URL pointing at another database. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres'), application_name: 'clawstorm-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(serverUrl: string, database: string): Promise<string> {
  assertName(database);
  await withAdmin(serverUrl, async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE "${database}"`);
  });
  return databaseUrlFor(serverUrl, database);
}

/** Drop a database, ending connections still open on it (a crashed test bed leaves some). */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  assertName(database);
  await withAdmin(serverUrl, async (c) => {
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    await c.query(`DROP DATABASE IF EXISTS "${database}"`);
  });
}
