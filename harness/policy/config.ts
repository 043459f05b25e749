import { z } from 'zod';

/** Config of `harness/policy/main.ts --config FILE` (one sidecar per gateway). */
export const PolicySidecarConfigSchema = z.object({
  id: z.string().min(1),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  databaseUrl: z.string().startsWith('postgres'),
  redisUrl: z.string().startsWith('redis://'),
  /** Tenant assumed when an input carries no tenant_id. */
  tenantId: z.string().default('acme'),
  /** Fallback when a `policies:changed` message is missed: compare the revision this often. */
  pollIntervalMs: z.number().int().min(100).default(2_000),
  dbPoolMax: z.number().int().min(1).default(2),
});
export type PolicySidecarConfig = z.output<typeof PolicySidecarConfigSchema>;
