import { loadConfigFile } from '../common/config-file.ts';
import { createLogger } from '../common/log.ts';
import { createPool } from '../db/pool.ts';
import { buildApp } from './app.ts';
import { GatewayConfigSchema } from './config.ts';
import { createRedis, POLICY_DOMAINS, type GatewayContext } from './context.ts';
import { createGatewayMetrics, zeroInitialise } from './metrics.ts';
import { TOOL_NAMES } from './tools/dispatch.ts';
import { createPolicyClient } from './policy-client.ts';
import { createAuditWriter } from './audit.ts';
import { createConnectorClient } from './connectors.ts';
import { startWebhookWorkers } from './hooks.ts';
import { defaultFaults } from './faults.ts';
import type { AuditWriter, FaultState } from './context.ts';

/**
 * The `auditDropRate` fault: acknowledge a share of audit writes without storing them, as a
 * writer that buffers and loses would. Exists so tests can prove the harness's lookup catches it.
 */
function withAuditDropFault(inner: AuditWriter, faults: FaultState): AuditWriter {
  return {
    write: async (entry) => {
      if (faults.auditDropRate > 0 && Math.random() < faults.auditDropRate) {
        return { id: crypto.randomUUID(), timestamp: new Date().toISOString() };
      }
      return inner.write(entry);
    },
  };
}

const config = loadConfigFile(GatewayConfigSchema);
const log = createLogger(`gateway:${config.id}`);
const metrics = createGatewayMetrics({ gateway: config.id, az: config.az, version: config.version, skillHash: config.skillHash });
const db = createPool(config.databaseUrl, config.dbPoolMax);
metrics.dbPoolMax.set(config.dbPoolMax);
zeroInitialise(metrics, { tools: TOOL_NAMES, connectors: ['gmail', 'calendar', 'jira', 'github', 'gdrive'], policyDomains: POLICY_DOMAINS });
metrics.refreshers.push(() => {
  metrics.dbPool.set({ state: 'total' }, db.totalCount);
  metrics.dbPool.set({ state: 'idle' }, db.idleCount);
  metrics.dbPool.set({ state: 'waiting' }, db.waitingCount);
});

const partial = {
  config,
  tokens: { ...config.tokens, gateway: [...config.tokens.gateway] },
  redis: createRedis(config.redisUrl, log),
  db,
  metrics,
  log,
  faults: defaultFaults({ config }),
  startedAt: Date.now(),
  onClose: [],
} satisfies Omit<GatewayContext, 'policy' | 'audit' | 'connectors'>;
const ctx: GatewayContext = {
  ...partial,
  policy: createPolicyClient(partial),
  audit: withAuditDropFault(createAuditWriter(partial), partial.faults),
  connectors: createConnectorClient(partial),
};

const app = await buildApp(ctx);
await app.listen({ host: config.host, port: config.port });
startWebhookWorkers(ctx);
log.info('listening', { port: config.port, pid: process.pid });

let stopping = false;
async function shutdown(sig: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Drain: readiness and the composite probe answer 503 first, so the load balancer moves
  // traffic away before the listener closes; in-flight requests then finish.
  ctx.faults.draining = true;
  log.info('draining', { signal: sig, graceMs: config.drainGraceMs });
  await new Promise((r) => setTimeout(r, config.drainGraceMs));
  await app.close();
  for (const fn of [...ctx.onClose].reverse()) {
    try {
      await fn();
    } catch (err) {
      log.warn('close hook failed', { err: (err as Error).message });
    }
  }
  await ctx.redis.quit().catch(() => {});
  await db.end().catch(() => {});
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
