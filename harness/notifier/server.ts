// The notifier of the test bed: gateways post failure events (5xx and 429 of webhook and tool
// requests, see harness/gateway/notify.ts); operators get one digest per window instead of the
// noise: deduplicated by status code, each status carrying its correlation ids, AZs, gateways and
// retry counts, written like an airline status board. When a digest cannot be published, a
// fallback counter on disk takes its events, so digests + fallback always account for every
// event received (GET /stats says so).
//
//   POST /events        {events: [...]} or one event          → 202 {accepted}
//   POST /flush         close the window now, publish           → {digest | null}
//   GET  /digests?after=ID&limit=N                              → {digests: [...]}
//   GET  /stats                                                  → counters + the fallback file
//   GET|PUT /admin/config  {windowMs?, sink?}                    → the settings
//   GET  /healthz
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { writeFileAtomic } from '../../src/util/atomic-write.ts';
import {
  ConfigPatchSchema,
  EventsBodySchema,
  type NotifierConfig,
  type NotifierEvent,
  type Sink,
} from './config.ts';

export interface StatusBlock {
  status: number | string;
  count: number;
  gateways: Record<string, number>;
  azs: Record<string, number>;
  /** How many events had each retry count ("0", "1", …). */
  retryCounts: Record<string, number>;
  maxRetryCount: number;
  firstAt: string;
  lastAt: string;
  correlationIds: string[];
  correlationIdsOmitted: number;
}

export interface Digest {
  id: number;
  window: { start: string; end: string; ms: number };
  closedBy: 'timer' | 'flush' | 'shutdown';
  total: number;
  /** One line for humans: short clauses, no stack traces. */
  summary: string;
  statuses: StatusBlock[];
  published: boolean;
  publishedAt?: string;
  /** Why publishing failed (its events went to the fallback counter). */
  error?: string;
}

export const FallbackSchema = z.object({
  version: z.literal(1),
  /** Events of digests that could not be published, plus events refused for lack of room. */
  events: z.number().int().min(0),
  digests: z.number().int().min(0),
  byStatus: z.record(z.string(), z.number().int().min(0)),
  lastError: z.string().optional(),
  updatedAt: z.string().optional(),
});
export type Fallback = z.infer<typeof FallbackSchema>;

const MAX_SEEN = 1_000_000;

const EMPTY_FALLBACK: Fallback = { version: 1, events: 0, digests: 0, byStatus: {} };

export function readFallback(file: string): Fallback {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...EMPTY_FALLBACK, byStatus: {} };
    throw err;
  }
  const parsed = FallbackSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file}: not a notifier fallback counter`);
  return parsed.data;
}

class Window {
  readonly start: number;
  total = 0;
  readonly byStatus = new Map<string, StatusBlock>();
  private readonly maxIds: number;

  constructor(start: number, maxIds: number) {
    this.start = start;
    this.maxIds = maxIds;
  }

  add(ev: NotifierEvent, now: number): void {
    this.total += 1;
    const key = String(ev.status);
    const ts = ev.ts ?? new Date(now).toISOString();
    let b = this.byStatus.get(key);
    if (b === undefined) {
      b = { status: ev.status, count: 0, gateways: {}, azs: {}, retryCounts: {}, maxRetryCount: 0, firstAt: ts, lastAt: ts, correlationIds: [], correlationIdsOmitted: 0 };
      this.byStatus.set(key, b);
    }
    b.count += 1;
    b.gateways[ev.gateway] = (b.gateways[ev.gateway] ?? 0) + 1;
    b.azs[ev.az] = (b.azs[ev.az] ?? 0) + 1;
    const rc = String(ev.retryCount);
    b.retryCounts[rc] = (b.retryCounts[rc] ?? 0) + 1;
    b.maxRetryCount = Math.max(b.maxRetryCount, ev.retryCount);
    if (ts < b.firstAt) b.firstAt = ts;
    if (ts > b.lastAt) b.lastAt = ts;
    if (b.correlationIds.length < this.maxIds) b.correlationIds.push(ev.correlationId);
    else b.correlationIdsOmitted += 1;
  }
}

/** "429 ×812 from gw-1, gw-2 (az-a, az-b), retries up to 3 · 503 ×4 from gw-2 (az-b)". */
export function summarize(statuses: readonly StatusBlock[]): string {
  if (statuses.length === 0) return 'no failures';
  return statuses
    .map((b) => {
      const gws = Object.keys(b.gateways).sort().join(', ');
      const azs = Object.keys(b.azs).sort().join(', ');
      const retries = b.maxRetryCount > 0 ? `, retries up to ${b.maxRetryCount}` : ', first attempts';
      return `${b.status} ×${b.count} from ${gws} (${azs})${retries}`;
    })
    .join(' · ');
}

export interface NotifierOptions {
  now?: () => number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Injected publisher (tests); default writes to the configured sink. */
  publish?: (sink: Sink, digest: Digest) => Promise<void>;
}

export interface NotifierState {
  settings: { windowMs: number; sink: Sink };
  received: number;
  digests: Digest[];
  published: { digests: number; events: number };
  failed: { digests: number; events: number };
  /** Events refused for lack of room, counted straight into the fallback. */
  overflow: number;
  /** Events received again (a gateway re-sending its spool after a crash): dropped. */
  duplicates: number;
  closeWindow(reason: Digest['closedBy']): Promise<Digest | undefined>;
  start(): void;
  stop(): Promise<void>;
}

async function publishToSink(sink: Sink, digest: Digest): Promise<void> {
  const { published: _p, publishedAt: _a, error: _e, ...body } = digest;
  if (sink.kind === 'file') {
    fs.mkdirSync(path.dirname(sink.path), { recursive: true });
    const fh = await fs.promises.open(sink.path, 'a', 0o600);
    try {
      await fh.write(`${JSON.stringify(body)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return;
  }
  const res = await fetch(sink.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(sink.timeoutMs),
  });
  await res.arrayBuffer();
  if (res.status < 200 || res.status >= 300) throw new Error(`sink answered HTTP ${res.status}`);
}

export function buildNotifier(config: NotifierConfig, opts: NotifierOptions = {}): { app: FastifyInstance; state: NotifierState } {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const publish = opts.publish ?? publishToSink;
  let window = new Window(now(), config.maxCorrelationIds);
  let nextId = 1;
  let timer: NodeJS.Timeout | undefined;
  // Window closes, fallback writes and publishing run one at a time, in order.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  const addToFallback = (events: number, digests: number, byStatus: Record<string, number>, error: string): void => {
    const f = readFallback(config.fallbackFile);
    f.events += events;
    f.digests += digests;
    for (const [k, n] of Object.entries(byStatus)) f.byStatus[k] = (f.byStatus[k] ?? 0) + n;
    f.lastError = error.slice(0, 300);
    f.updatedAt = new Date(now()).toISOString();
    writeFileAtomic(config.fallbackFile, `${JSON.stringify(f, null, 2)}\n`, { mode: 0o600, forceMode: true, durable: true });
  };

  const state: NotifierState = {
    settings: { windowMs: config.windowMs, sink: config.sink },
    received: 0,
    digests: [],
    published: { digests: 0, events: 0 },
    failed: { digests: 0, events: 0 },
    overflow: 0,
    duplicates: 0,
    closeWindow: (reason) =>
      serial(async () => {
        const closing = window;
        const end = now();
        window = new Window(end, config.maxCorrelationIds);
        // An empty window publishes nothing: silence is the digest of a quiet window.
        if (closing.total === 0) return undefined;
        const statuses = [...closing.byStatus.values()].sort((a, b) => b.count - a.count || String(a.status).localeCompare(String(b.status)));
        const digest: Digest = {
          id: nextId++,
          window: { start: new Date(closing.start).toISOString(), end: new Date(end).toISOString(), ms: end - closing.start },
          closedBy: reason,
          total: closing.total,
          summary: summarize(statuses),
          statuses,
          published: false,
        };
        try {
          await publish(state.settings.sink, digest);
          digest.published = true;
          digest.publishedAt = new Date(now()).toISOString();
          state.published.digests += 1;
          state.published.events += digest.total;
        } catch (err) {
          digest.error = (err as Error).message;
          state.failed.digests += 1;
          state.failed.events += digest.total;
          const byStatus: Record<string, number> = {};
          for (const b of statuses) byStatus[String(b.status)] = b.count;
          try {
            addToFallback(digest.total, 1, byStatus, `digest ${digest.id} not published: ${digest.error}`);
          } catch (ferr) {
            log('fallback counter not written', { err: (ferr as Error).message });
          }
          log('digest not published; counted in the fallback file', { id: digest.id, events: digest.total, err: digest.error });
        }
        state.digests.push(digest);
        if (state.digests.length > config.keepDigests) state.digests.splice(0, state.digests.length - config.keepDigests);
        return digest;
      }),
    start() {
      const tick = () => {
        timer = setTimeout(() => {
          void state.closeWindow('timer').finally(tick);
        }, Math.max(100, state.settings.windowMs - (now() - window.start)));
        timer.unref();
      };
      if (timer === undefined) tick();
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await state.closeWindow('shutdown');
    },
  };

  const app = Fastify({ logger: false, bodyLimit: 64 * 1_048_576 });
  // Recently seen events (gateway, status, correlation id), oldest first, bounded.
  const seen = new Set<string>();

  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (config.adminToken === undefined) return;
    const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = crypto.createHash('sha256').update(given).digest();
    const b = crypto.createHash('sha256').update(config.adminToken).digest();
    if (!crypto.timingSafeEqual(a, b)) return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'missing or invalid bearer token' });
  };

  app.get('/healthz', async () => ({ ok: true }));

  app.post('/events', async (req, reply) => {
    const parsed = EventsBodySchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(parsed.error) });
    const events = 'events' in parsed.data ? parsed.data.events : [parsed.data];
    const t = now();
    let accepted = 0;
    const overflow: Record<string, number> = {};
    for (const ev of events) {
      state.received += 1;
      const id = `${ev.gateway}|${ev.status}|${ev.correlationId}`;
      if (seen.has(id)) {
        state.duplicates += 1;
        continue;
      }
      seen.add(id);
      if (seen.size > MAX_SEEN) seen.delete(seen.values().next().value as string);
      if (window.total >= config.maxPending) {
        overflow[String(ev.status)] = (overflow[String(ev.status)] ?? 0) + 1;
        continue;
      }
      window.add(ev, t);
      accepted += 1;
    }
    const spilled = Object.values(overflow).reduce((a, n) => a + n, 0);
    if (spilled > 0) {
      state.overflow += spilled;
      await serial(async () => addToFallback(spilled, 0, overflow, `${spilled} event(s) refused: window full (${config.maxPending})`));
    }
    return reply.code(202).send({ accepted, fallback: spilled, duplicates: events.length - accepted - spilled });
  });

  app.post('/flush', { preHandler: guard }, async () => ({ digest: (await state.closeWindow('flush')) ?? null }));

  app.get('/digests', async (req, reply) => {
    const q = z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(10_000).default(1_000) }).safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(q.error) });
    return { digests: state.digests.filter((d) => d.id > q.data.after).slice(0, q.data.limit), lastId: nextId - 1 };
  });

  app.get('/stats', async () => ({
    received: state.received,
    pending: window.total,
    windowStartedAt: new Date(window.start).toISOString(),
    windowMs: state.settings.windowMs,
    sink: state.settings.sink.kind,
    lastDigestId: nextId - 1,
    published: state.published,
    failed: state.failed,
    overflow: state.overflow,
    duplicates: state.duplicates,
    fallback: readFallback(config.fallbackFile),
  }));

  app.get('/admin/config', { preHandler: guard }, async () => ({ windowMs: state.settings.windowMs, sink: state.settings.sink }));

  app.put('/admin/config', { preHandler: guard }, async (req, reply) => {
    const parsed = ConfigPatchSchema.safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(parsed.error) });
    if (parsed.data.sink !== undefined) state.settings.sink = parsed.data.sink;
    if (parsed.data.windowMs !== undefined && parsed.data.windowMs !== state.settings.windowMs) {
      state.settings.windowMs = parsed.data.windowMs;
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        state.start();
      }
    }
    log('settings changed', { windowMs: state.settings.windowMs, sink: state.settings.sink.kind });
    return { windowMs: state.settings.windowMs, sink: state.settings.sink };
  });

  return { app, state };
}
