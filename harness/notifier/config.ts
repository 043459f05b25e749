import { z } from 'zod';

// The notifier's config file (`main.ts --config FILE`, JSON, mode 0600: it may hold the admin
// bearer). The launcher of the test bed writes it; see harness/notifier/server.ts for what it does.

export const SinkSchema = z.discriminatedUnion('kind', [
  /** Append one JSON line per digest, fsync'd. */
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
  /** POST the digest as JSON (a chat webhook, an alert relay); any 2xx is published. */
  z.strictObject({ kind: z.literal('http'), url: z.url(), timeoutMs: z.number().int().min(1).max(60_000).default(5_000) }),
]);
export type Sink = z.output<typeof SinkSchema>;

export const NotifierConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** One digest per window at most (5 minutes in the full profile; shorter in smoke). */
  windowMs: z.number().int().min(100).max(86_400_000).default(300_000),
  sink: SinkSchema,
  /** The fallback counter on disk: what could not be published, so nothing disappears silently. */
  fallbackFile: z.string().min(1),
  /** Digests kept in memory for GET /digests. */
  keepDigests: z.number().int().min(1).max(100_000).default(1_000),
  /** Correlation ids carried per status code per digest; the rest are counted as omitted. */
  maxCorrelationIds: z.number().int().min(0).max(1_000_000).default(100_000),
  /** Events held in the open window at most; beyond that they go straight to the fallback counter. */
  maxPending: z.number().int().min(1).max(10_000_000).default(1_000_000),
  /** Bearer for PUT /admin/config and POST /flush; unset: those routes are open (loopback only). */
  adminToken: z.string().min(16).optional(),
});
export type NotifierConfig = z.output<typeof NotifierConfigSchema>;

export const StatusSchema = z.union([z.number().int().min(100).max(599), z.string().regex(/^[a-z0-9_.-]{1,64}$/i)]);

export const EventSchema = z.object({
  status: StatusSchema,
  correlationId: z.string().min(1).max(256),
  az: z.string().min(1).max(64).default('unknown'),
  gateway: z.string().min(1).max(128).default('unknown'),
  retryCount: z.number().int().min(0).max(1_000_000).default(0),
  ts: z.iso.datetime({ offset: true }).optional(),
  route: z.string().max(256).optional(),
  /** Free text for non-HTTP events (a disk watermark crossing); short clauses, no stack traces. */
  detail: z.string().max(500).optional(),
});
export type NotifierEvent = z.output<typeof EventSchema>;

export const EventsBodySchema = z.union([z.strictObject({ events: z.array(EventSchema).max(100_000) }), EventSchema]);

export const ConfigPatchSchema = z.strictObject({
  windowMs: z.number().int().min(100).max(86_400_000).optional(),
  sink: SinkSchema.optional(),
});
