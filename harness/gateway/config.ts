import { z } from 'zod';

export const GatewayConfigSchema = z.object({
  id: z.string().min(1),
  az: z.string().default('az-a'),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  version: z.string().default('0.1.0'),
  skillHash: z.string().min(4),
  tenantId: z.string().default('acme'),
  tokens: z.object({
    /** Accepted bearer tokens for /tools/invoke, WebSocket connect and /api/v1 (primary first; an overlap token during rotation). */
    gateway: z.array(z.string().min(16)).min(1),
    hook: z.string().min(16),
    admin: z.string().min(16),
    /** Bearer for the composite probe /keda/metrics (HAProxy sends it). */
    probe: z.string().min(16),
  }),
  redisUrl: z.string().startsWith('redis://'),
  databaseUrl: z.string().startsWith('postgres'),
  dbPoolMax: z.number().int().min(1).default(10),
  policyUrl: z.url(),
  policyTimeoutMs: z.number().int().min(1).default(5_000),
  upstreamUrl: z.url(),
  /** Connector reads retry 429s / transient failures; `PATCH /admin/connectors` flips it at runtime (per process). */
  connectorRetries: z.boolean().default(true),
  notifierUrl: z.url().optional(),
  webhookWorkers: z.number().int().min(0).default(4),
  /** Size of the (simulated) disk, for the disk watermark gates (yellow 82% on 1 TB, 78% on 2 TB; red 90%). */
  diskCapacityBytes: z.number().positive().default(1e12),
  dataDir: z.string().min(1),
  /** On SIGTERM: time spent failing readiness before closing the listener, so the LB moves traffic first. */
  drainGraceMs: z.number().int().min(0).default(2_000),
});
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;
