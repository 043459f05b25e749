// The audit store of a test bed: its own database on the PostgreSQL at DATABASE_URL (created
// here, dropped on `down`), or the embedded PGlite wire server.
import pg from 'pg';
import { isLoopbackHost } from '../util/ports.ts';
import { redact } from '../util/redact.ts';

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
