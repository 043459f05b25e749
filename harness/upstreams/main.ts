import { loadConfigFile } from '../common/config-file.ts';
import { createLogger } from '../common/log.ts';
import { UpstreamsConfigSchema } from './config.ts';
import { buildUpstreams } from './server.ts';

const config = loadConfigFile(UpstreamsConfigSchema);
const log = createLogger('upstreams');
const { app, state } = buildUpstreams(config);
await app.listen({ host: config.host, port: config.port });
log.info('listening', { port: config.port, pid: process.pid, seed: config.seed, latencyMs: state.tunables.latencyMs });

let stopping = false;
async function shutdown(sig: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { signal: sig });
  await app.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
