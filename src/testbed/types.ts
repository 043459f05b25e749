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

const GatewayEndpointSchema = z.object({
  id: z.string(),
  az: z.string(),
  url: z.string(),
  server: z.string(),
  configFile: z.string(),
  /** A real OpenClaw gateway's own JSONL log (`logging.file`): where its hook runs are recorded. */
  appLogFile: z.string().optional(),
});

/** What every kind of bed has: the fleet behind HAProxy, Prometheus, token files. */
const BedCommonSchema = z.object({
  id: z.string(),
  stateDir: z.string(),
  startedAt: z.string(),
  lb: z.object({ url: z.string() }),
  haproxy: z.object({ statsUrl: z.string(), metricsUrl: z.string(), socket: z.string(), backend: z.string() }),
  prometheus: z.object({ url: z.string() }),
  gateways: z.array(GatewayEndpointSchema),
  exporters: z.array(z.object({ job: z.string(), url: z.string() })),
});

/** The reference fleet (harness/gateway with sidecars, upstreams, redis, audit store, notifier). */
export const TestbedEndpointsSchema = BedCommonSchema.extend({
  /** Absent in state files written before beds of real gateways existed. */
  kind: z.literal('reference').optional(),
  policies: z.array(z.object({ id: z.string(), gateway: z.string(), url: z.string() })),
  upstreams: z.object({ url: z.string() }),
  redis: z.object({ url: z.string() }),
  database: z.object({ url: z.string(), kind: z.enum(['pglite', 'postgres']) }),
  tokenFiles: z.object({ gateway: z.string(), hook: z.string(), admin: z.string(), probe: z.string() }),
  // Additions (optional, so older state files and readers stay valid):
  /** The skill hash every gateway of the bed was started with (probe drift checks). */
  skillHash: z.string().optional(),
  /** The tenant the gateways and sidecars serve. */
  tenantId: z.string().optional(),
  /** The notifier (failure digests): its URL, the digest file (sink) and the fallback counter file. */
  notifier: z.object({ url: z.string(), digestFile: z.string(), fallbackFile: z.string() }).optional(),
});
export type TestbedEndpoints = z.infer<typeof TestbedEndpointsSchema>;

/** Real OpenClaw gateways (npm `openclaw`) behind HAProxy, watched by the blackbox exporter. */
export const OpenClawEndpointsSchema = BedCommonSchema.extend({
  kind: z.literal('openclaw'),
  /** One gateway token and one hook token for the fleet: behind a load balancer a client cannot pick its replica. */
  tokenFiles: z.object({ gateway: z.string(), hook: z.string() }),
  openclaw: z.object({ version: z.string(), packageDir: z.string() }),
});
export type OpenClawEndpoints = z.infer<typeof OpenClawEndpointsSchema>;

export const AnyTestbedEndpointsSchema = z.union([OpenClawEndpointsSchema, TestbedEndpointsSchema]);
export type AnyTestbedEndpoints = z.infer<typeof AnyTestbedEndpointsSchema>;
export type TestbedKind = 'reference' | 'openclaw';

/** The reference fleet's endpoints, or an error that says which kind of bed this is instead. */
export function referenceBed(e: AnyTestbedEndpoints, what: string): TestbedEndpoints {
  if (e.kind === 'openclaw') throw new Error(`${what} needs the reference fleet; test bed ${e.id} runs real OpenClaw gateways`);
  return e;
}
