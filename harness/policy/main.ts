import { loadConfigFile } from '../common/config-file.ts';
import { createLogger } from '../common/log.ts';
import { createPool } from '../db/pool.ts';
import { PolicySidecarConfigSchema } from './config.ts';
import { createSidecar } from './server.ts';

const config = loadConfigFile(PolicySidecarConfigSchema);
const log = createLogger(`policy:${config.id}`);
const db = createPool(config.databaseUrl, config.dbPoolMax);

const sidecar = await createSidecar({
  id: config.id,
  tenantId: config.tenantId,
  db,
  redisUrl: config.redisUrl,
  pollIntervalMs: config.pollIntervalMs,
  log,
});
await sidecar.app.listen({ host: config.host, port: config.port });
log.info('listening', { port: config.port, pid: process.pid, revision: sidecar.current()?.revision ?? null });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal });
  await sidecar.close().catch(() => {});
  await db.end().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
