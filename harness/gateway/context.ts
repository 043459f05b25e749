import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from '../common/log.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayMetrics } from './metrics.ts';

/** Fault settings the admin route controls; drills flip them, rollbacks reset them. */
export interface FaultState {
  latencyMs: number;
  errorRate: number;
  diskUsedRatio: number;
  degraded: boolean;
  skillHash: string;
  draining: boolean;
  auditDropRate: number;
  /**
   * Idempotency keys held in this process's memory instead of Redis, as a real OpenClaw gateway
   * holds them: other replicas never see them and a restart forgets them.
   */
  keysInMemory: boolean;
}

export const POLICY_DOMAINS = ['actions', 'models', 'integrations', 'agent_exchange', 'features', 'data', 'audit'] as const;
export type PolicyDomain = (typeof POLICY_DOMAINS)[number];

export interface PolicyInput {
  tenant_id: string;
  user_id: string;
  action: string;
  data_classification: string;
  channel: string;
  target_system: string;
  additional?: Record<string, unknown>;
}

export interface PolicyDecision {
  allow: boolean;
  reason: string;
  /** Name/version of the policy that decided, when one did. */
  policy?: string;
  /** True when no decision could be had (sidecar unreachable, timeout, bad answer): fail closed. */
  error?: boolean;
  /** Obligations such as requiring human approval (OCIP commitments). */
  requireApproval?: boolean;
}

export interface PolicyClient {
  /** Never throws: an unreachable sidecar yields `{allow:false, error:true}` (fail closed). */
  evaluate(domain: PolicyDomain, input: PolicyInput): Promise<PolicyDecision>;
}

export interface AuditEntryInput {
  tenant_id: string;
  user_id: string;
  action_type: string;
  action_detail: Record<string, unknown>;
  data_accessed: unknown[];
  model_used?: string | null;
  model_tokens?: number | null;
  data_classification: string;
  policy_applied: string | null;
  policy_result: 'allow' | 'deny' | 'error';
  policy_reason: string | null;
  outcome: 'success' | 'denied' | 'error' | 'pending';
  request_id: string;
}

export interface AuditWriter {
  /** Resolves only once the store acknowledged the row (so an ack means durable); throws otherwise. */
  write(entry: AuditEntryInput): Promise<{ id: string; timestamp: string }>;
}

export type ConnectorName = 'gmail' | 'calendar' | 'jira' | 'github' | 'gdrive';

export interface ConnectorClient {
  /** GET an upstream path for a user; 429s are queued and retried with backoff + jitter, never dropped. */
  read(connector: ConnectorName, path: string, userId: string): Promise<unknown>;
}

export interface GatewayContext {
  config: GatewayConfig;
  /** Live token set: rotation drills change it through the admin route. */
  tokens: { gateway: string[]; hook: string; admin: string; probe: string };
  redis: Redis;
  db: pg.Pool;
  metrics: GatewayMetrics;
  log: Logger;
  faults: FaultState;
  policy: PolicyClient;
  audit: AuditWriter;
  connectors: ConnectorClient;
  startedAt: number;
  /** Functions run on shutdown, last registered first. */
  onClose: Array<() => Promise<void> | void>;
}

export function createRedis(url: string, log?: Logger): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: 3, enableAutoPipelining: true, lazyConnect: false });
  // Without a listener ioredis reports a lost server as an unhandled error; readiness and the
  // composite probe already say when Redis is down.
  let last = 0;
  r.on('error', (err: Error) => {
    if (Date.now() - last > 10_000) log?.warn('redis error', { err: err.message });
    last = Date.now();
  });
  return r;
}

/** What exists before the policy client, audit writer and connector client are built on it. */
export type BaseContext = Omit<GatewayContext, 'policy' | 'audit' | 'connectors'>;
