import { loadConfigFile } from '../common/config-file.ts';
import { createLogger } from '../common/log.ts';
import { NotifierConfigSchema } from './config.ts';
import { buildNotifier } from './server.ts';

const config = loadConfigFile(NotifierConfigSchema);
const log = createLogger('notifier');
const { app, state } = buildNotifier(config, { log: (msg, fields) => log.warn(msg, fields) });
await app.listen({ host: config.host, port: config.port });
state.start();
log.info('listening', { port: config.port, pid: process.pid, windowMs: config.windowMs, sink: config.sink.kind });

let stopping = false;
async function shutdown(sig: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping: publishing the open window', { signal: sig });
  await app.close();
  await state.stop().catch((err: Error) => log.error('last digest failed', { err: err.message }));
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
