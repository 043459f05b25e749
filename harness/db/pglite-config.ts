import { z } from 'zod';

/** Config of `harness/db/pglite-server.ts --config FILE`. */
export const PgliteServerConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** On-disk data directory: a restart of the server keeps the data. Created when missing. */
  dataDir: z.string().min(1),
  /**
   * Client connections accepted at once (the sum of every pool pointed at this server). They
   * share one PGlite session; statements run one at a time in arrival order.
   */
  maxConnections: z.number().int().min(1).default(100),
  /** Apply harness/db/schema.sql before accepting connections (idempotent). */
  migrate: z.boolean().default(true),
  /** Close connections idle this long (0 = never). */
  idleTimeoutMs: z.number().int().min(0).default(0),
});
export type PgliteServerConfig = z.output<typeof PgliteServerConfigSchema>;

/** The URL clients use to reach the wire server (any database name is the one PGlite database). */
export function pgliteUrl(c: Pick<PgliteServerConfig, 'host' | 'port'>): string {
  return `postgres://postgres@${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}/postgres`;
}
