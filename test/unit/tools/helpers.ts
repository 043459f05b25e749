import type { Redis } from 'ioredis';
import type pg from 'pg';
import { GatewayConfigSchema } from '../../../harness/gateway/config.ts';
import type { AuditEntryInput, AuditWriter, GatewayContext, PolicyClient } from '../../../harness/gateway/context.ts';
import { createGatewayMetrics } from '../../../harness/gateway/metrics.ts';

/** Stand-in for a dependency a test must not reach: any use throws, naming it. */
export function unreachable<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      throw new Error(`${what}.${String(prop)} used in a test that must not touch ${what}`);
    },
  });
}

export interface RecordingAudit extends AuditWriter {
  entries: Array<AuditEntryInput & { id: string }>;
  failing: boolean;
}

export function recordingAudit(): RecordingAudit {
  const a: RecordingAudit = {
    entries: [],
    failing: false,
    async write(entry) {
      if (a.failing) throw new Error('audit store down');
      const id = `audit-${a.entries.length + 1}`;
      a.entries.push({ ...entry, id });
      return { id, timestamp: new Date().toISOString() };
    },
  };
  return a;
}

export function testContext(over: { upstreamUrl?: string; policy?: PolicyClient; audit?: AuditWriter; connectorRetries?: boolean } = {}): GatewayContext {
  const config = GatewayConfigSchema.parse({
    id: 'gw-test',
    port: 1,
    skillHash: 'abcd1234',
    tokens: { gateway: ['g'.repeat(20)], hook: 'h'.repeat(20), admin: 'a'.repeat(20), probe: 'p'.repeat(20) },
    redisUrl: 'redis://127.0.0.1:1',
    databaseUrl: 'postgres://127.0.0.1:1/none',
    policyUrl: 'http://127.0.0.1:1',
    upstreamUrl: over.upstreamUrl ?? 'http://127.0.0.1:1',
    dataDir: '/nonexistent',
    connectorRetries: over.connectorRetries ?? true,
  });
  return {
    config,
    tokens: { ...config.tokens },
    redis: unreachable<Redis>('redis'),
    db: unreachable<pg.Pool>('db'),
    metrics: createGatewayMetrics({ gateway: 'gw-test', az: 'az-a', version: '0', skillHash: 'abcd1234' }),
    log: { info() {}, warn() {}, error() {} },
    faults: { latencyMs: 0, errorRate: 0, diskUsedRatio: 0, degraded: false, skillHash: 'abcd1234', draining: false, auditDropRate: 0, keysInMemory: false },
    policy: over.policy ?? { evaluate: async () => ({ allow: true, reason: 'allowed', policy: 'test/1' }) },
    audit: over.audit ?? recordingAudit(),
    connectors: unreachable('connectors'),
    startedAt: Date.now(),
    onClose: [],
  };
}

export async function counterValue(ctx: GatewayContext, name: string, labels: Record<string, string>): Promise<number> {
  const m = await ctx.metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return v?.value ?? 0;
}
