// The audit store of a test bed: which server it goes on (a named or local PostgreSQL, or none:
// the embedded PGlite wire server), its own database there (created here, dropped on `down`), and
// the migrations.
import pg from 'pg';
import { migrate } from '../../harness/db/migrate.ts';
import { isLoopbackHost } from '../util/ports.ts';
import { redact } from '../util/redact.ts';
import { writeState, type TestbedState } from './state.ts';

export class DatabaseConfigError extends Error {}

/** A URL with the password masked, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return redact(u.toString());
  } catch {
    return '(unparsable database URL)';
  }
}

/** Refuse anything but loopback or a unix socket: the bed creates and drops databases there. */
export function checkDatabaseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatabaseConfigError('DATABASE_URL is not a URL (expected postgres://user:pass@127.0.0.1:5432/db)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new DatabaseConfigError(`DATABASE_URL ${displayUrl(url)}: scheme must be postgres:// or postgresql://`);
  }
  const socketHost = u.searchParams.get('host');
  const host = u.hostname;
  const local = host === '' ? socketHost === null || socketHost.startsWith('/') : isLoopbackHost(host);
  if (!local) {
    throw new DatabaseConfigError(`DATABASE_URL ${displayUrl(url)}: the test bed only uses a loopback PostgreSQL (it creates and drops a database there)`);
  }
  return u;
}

/** The same server, another database. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

export function testbedDatabaseName(id: string): string {
  return `clawstorm_${id.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`refusing odd database name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, statement_timeout: 30_000, application_name: 'clawstorm-testbed' });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL at ${displayUrl(url)}: ${redact((err as Error).message)}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  await withClient(adminUrl, async (c) => {
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      throw new Error(`could not create database ${name} on ${displayUrl(adminUrl)}: ${redact((err as Error).message)}`);
    }
  });
  return withDatabase(adminUrl, name);
}

/** Drop it, disconnecting whoever is still connected (idempotent). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    try {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    } catch {
      // PostgreSQL < 13 has no FORCE: terminate the sessions, then drop.
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    }
  });
}

export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  return withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

/** `SELECT 1` answered within the deadline. */
export async function pgReady(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: 'clawstorm-testbed' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The loopback PostgreSQL a bed uses when none is named and one answers there. */
export const DEFAULT_LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Which server the bed's audit database goes on: the one named, else a PostgreSQL answering on
 * the loopback default (the bed creates a database of its own there and drops it on `down`, so
 * it never shares tables with anyone), else none: embedded PGlite runs the same SQL. A real
 * server is preferred because PGlite runs one statement at a time for every client.
 */
export async function chooseDatabaseServer(named: string | undefined, forcePglite: boolean): Promise<string | undefined> {
  if (named !== undefined) return named;
  if (forcePglite) return undefined;
  return (await pgReady(DEFAULT_LOCAL_POSTGRES, 1_500)) ? DEFAULT_LOCAL_POSTGRES : undefined;
}

/** The bed's own database on a shared server, recorded in the state before it exists. */
export async function createOwnDatabase(state: TestbedState, adminUrl: string): Promise<{ name: string; adminUrl: string; url: string }> {
  checkDatabaseUrl(adminUrl);
  const name = testbedDatabaseName(state.id);
  // Recorded before it exists: an interrupted `up` still gets it dropped (DROP … IF EXISTS).
  state.createdDatabase = { name, adminUrl };
  writeState(state);
  const url = await createDatabase(adminUrl, name);
  return { name, adminUrl, url };
}

export async function runMigrations(databaseUrl: string): Promise<void> {
  try {
    await migrate(databaseUrl);
  } catch (err) {
    throw new Error(`migrations failed on ${displayUrl(databaseUrl)}: ${redact((err as Error).message)}`);
  }
}
