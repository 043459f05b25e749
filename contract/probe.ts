import { z } from 'zod';

// The composite probe's measurement contract (plan §5), versioned in the repo. The JSON Schema
// twin is docs/probe.schema.json; test/unit/gateway/probe-schema.test.ts keeps the two in step.
// The five contract keys are closed (no extra keys), so shape drift between gateways shows up as
// a validation failure; anything a gateway wants to add goes under the optional `detail` key.

export const PROBE_SCHEMA_VERSION = '1.0.0';
export const PROBE_SCHEMA_ID = `https://clawstorm.dev/schemas/composite-probe/${PROBE_SCHEMA_VERSION}/probe.schema.json`;
export const PROBE_PATH = '/keda/metrics';
export const KEDA_LANE = 'openclaw-build-lane';

export const DependencyCheckSchema = z.looseObject({
  ok: z.boolean(),
  latency_ms: z.number().min(0),
  error: z.string().optional(),
});

export const ProbeDetailSchema = z.looseObject({
  schema_version: z.string(),
  gateway_id: z.string().optional(),
  az: z.string().optional(),
  version: z.string().optional(),
  uptime_s: z.number().min(0).optional(),
  draining: z.boolean().optional(),
  disk_used_ratio: z.number().min(0).max(1).optional(),
  disk_gates: z.looseObject({ yellow: z.number().min(0).max(1), red: z.number().min(0).max(1) }).optional(),
  ws_connections: z.number().int().min(0).optional(),
  canary_window_s: z.number().int().min(1).optional(),
  canary_requests: z.number().int().min(0).optional(),
  canary_p50_ms: z.number().min(0).optional(),
  checks: z.record(z.string(), DependencyCheckSchema).optional(),
  reasons: z.array(z.string()).optional(),
});

export const ProbeResponseSchema = z
  .strictObject({
    status: z.enum(['healthy', 'degraded']),
    keda: z.string().min(1),
    canary: z.strictObject({
      '5xx_rate': z.number().min(0).max(1),
      p99_ms: z.number().min(0),
    }),
    gateway: z.strictObject({
      disk_ok: z.boolean(),
      queue_depth: z.number().int().min(0),
      skill_hash: z.string().min(1),
    }),
    degraded: z.boolean(),
    detail: ProbeDetailSchema.optional(),
  })
  .refine((p) => (p.status === 'degraded') === p.degraded, {
    message: 'status must be "degraded" exactly when degraded is true',
    path: ['status'],
  });

export type ProbeResponse = z.infer<typeof ProbeResponseSchema>;
export type ProbeDetail = z.infer<typeof ProbeDetailSchema>;

/** Validate one probe answer; `errors` name the path and rule of each violation. */
export function validateProbe(body: unknown): { ok: true; value: ProbeResponse } | { ok: false; errors: string[] } {
  const r = ProbeResponseSchema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

/**
 * Disk watermark gates (plan §4): yellow 82% on a 1 TB disk, 78% on a 2 TB disk; red 90% on both.
 * The tiers split at 1.5 TB so a 1 TiB disk still counts as the 1 TB tier.
 */
export function diskGates(capacityBytes: number): { yellow: number; red: number } {
  return { yellow: capacityBytes > 1.5e12 ? 0.78 : 0.82, red: 0.9 };
}

/** Canary 5xx ceiling (plan §4): above 0.5% the probe reports degraded. */
export const CANARY_5XX_CEILING = 0.005;
