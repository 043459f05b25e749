import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { loadConfigFile } from '../common/config-file.ts';
import { createLogger } from '../common/log.ts';
import { applySchema } from './migrate.ts';
import { PgliteServerConfigSchema, pgliteUrl } from './pglite-config.ts';
import { startWireServer } from './pglite-mux.ts';

// Embedded PostgreSQL (PGlite, WASM) on an on-disk data directory, served over the PostgreSQL
// wire protocol so every gateway and sidecar process reaches it with plain `pg`.
//
// All client connections are multiplexed onto the single PGlite session (pglite-mux.ts):
// - one connection at a time has the session for a whole protocol unit (an extended-protocol
//   query up to its Sync, or a simple query), and for a whole explicit transaction (BEGIN …
//   COMMIT): others wait, so neither interleaves. A client that disconnects mid-transaction is
//   rolled back. An idle-in-transaction client stalls everyone: keep transactions short.
// - session state is shared: SET, named prepared statements, temp tables, session advisory
//   locks leak between clients. Application code therefore uses single-statement writes (CTEs
//   for "mutation + audit row" atomicity) and never relies on session state.

const config = loadConfigFile(PgliteServerConfigSchema);
const log = createLogger('pglite');

fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
const started = Date.now();
const db = await PGlite.create({ dataDir: config.dataDir });
log.info('pglite ready', { dataDir: config.dataDir, ms: Date.now() - started });

if (config.migrate) {
  await applySchema((sql) => db.exec(sql));
  log.info('schema applied');
}

const server = await startWireServer({
  db,
  host: config.host,
  port: config.port,
  maxConnections: config.maxConnections,
  idleTimeoutMs: config.idleTimeoutMs,
  onError: (err) => log.warn('wire server error', { err: err.message }),
});
log.info('listening', { url: pgliteUrl(config), maxConnections: config.maxConnections, pid: process.pid });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal });
  try {
    await server.stop();
  } catch (err) {
    log.warn('socket server stop failed', { err: (err as Error).message });
  }
  // Closing PGlite checkpoints and flushes the data directory so the next start finds it intact.
  await db.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
