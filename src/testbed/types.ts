import { z } from 'zod';

// What `clawstorm testbed up --json` prints and what the state file holds. Tokens are never
// inline: they live in files (mode 0600) under the state directory, referenced here by path.
export const ProcessRecordSchema = z.object({
  name: z.string(),
  pid: z.number().int(),
  command: z.string(),
  args: z.array(z.string()),
  logFile: z.string(),
  configFile: z.string().optional(),
});
export type ProcessRecord = z.infer<typeof ProcessRecordSchema>;

export const TestbedEndpointsSchema = z.object({
  id: z.string(),
  stateDir: z.string(),
  startedAt: z.string(),
  lb: z.object({ url: z.string() }),
  haproxy: z.object({ statsUrl: z.string(), metricsUrl: z.string(), socket: z.string(), backend: z.string() }),
  prometheus: z.object({ url: z.string() }),
  gateways: z.array(
    z.object({ id: z.string(), az: z.string(), url: z.string(), server: z.string(), configFile: z.string() }),
  ),
  policies: z.array(z.object({ id: z.string(), gateway: z.string(), url: z.string() })),
  upstreams: z.object({ url: z.string() }),
  redis: z.object({ url: z.string() }),
  database: z.object({ url: z.string(), kind: z.enum(['pglite', 'postgres']) }),
  tokenFiles: z.object({ gateway: z.string(), hook: z.string(), admin: z.string(), probe: z.string() }),
  exporters: z.array(z.object({ job: z.string(), url: z.string() })),
  // Additions (optional, so older state files and readers stay valid):
  /** The skill hash every gateway of the bed was started with (probe drift checks). */
  skillHash: z.string().optional(),
  /** The tenant the gateways and sidecars serve. */
  tenantId: z.string().optional(),
  /** The notifier (failure digests): its URL, the digest file (sink) and the fallback counter file. */
  notifier: z.object({ url: z.string(), digestFile: z.string(), fallbackFile: z.string() }).optional(),
});
export type TestbedEndpoints = z.infer<typeof TestbedEndpointsSchema>;
