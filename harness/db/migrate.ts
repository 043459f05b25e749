import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'schema.sql');

// Arbitrary constant: serialises concurrent migrations against one server (several gateways
// starting at once). On PGlite every client shares one session, so the lock is re-entrant there,
// which is harmless: the wire server runs one message at a time anyway.
const MIGRATION_LOCK_KEY = 7_301_946_221;

export function schemaSql(): string {
  return fs.readFileSync(SCHEMA_FILE, 'utf8');
}

/** The whole schema as one simple-protocol query inside one transaction (all or nothing). */
export function migrationScript(): string {
  return `BEGIN;\nSELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});\n${schemaSql()}\nCOMMIT;\n`;
}

/**
 * Create or update the audit/policy/app schemas. Idempotent; the same SQL runs on PostgreSQL
 * and on the PGlite wire server. One client, one round trip: a multi-statement simple query is
 * what both accept without needing a session-level transaction across round trips.
 */
export async function migrate(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'clawstorm-migrate' });
  await client.connect();
  try {
    await client.query(migrationScript());
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw new Error(`migration of ${redactUrl(databaseUrl)} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}

/** Apply the schema through any executor of a multi-statement SQL string (in-process PGlite). */
export async function applySchema(exec: (sql: string) => Promise<unknown>): Promise<void> {
  await exec(migrationScript());
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

// `node harness/db/migrate.ts postgres://…` migrates one database by hand.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.DATABASE_URL;
  if (url === undefined) {
    console.error('usage: migrate.ts DATABASE_URL');
    process.exit(2);
  }
  migrate(url).then(
    () => console.error(`migrated ${redactUrl(url)}`),
    (err: unknown) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
