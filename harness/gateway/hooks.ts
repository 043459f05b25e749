import crypto from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { authorize } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { sleep } from '../../src/util/sleep.ts';

// Webhook ingress with durable admission. A delivery is acknowledged (200) only after its job is
// on the fleet-wide Redis queue, and the idempotency key and the enqueue happen in one Lua script,
// so a crash can never leave a stored key without its job (a replay would then point at a run
// that never happens) nor two jobs for one key. Keys live in Redis for 24 h, so unlike the real
// gateway's in-memory store a restart does not forget them — unless the `keysInMemory` fault
// control makes this gateway hold them as the real one does. Every hook answer names the process
// that gave it (`X-Gateway-Instance`).
//
// Workers drain the queue reliably: BLMOVE into a per-gateway processing list, do the work, then
// record the run and LREM the job in one MULTI. A crash before the MULTI leaves the job in the
// processing list, from where this gateway re-queues it on its next start; after the MULTI the
// run is recorded exactly once. Accounting: `runs:processed` (runId → times processed) and the
// capped stream `runs:log`.
//
// Counters: received = every delivery that reached a hook route (after fault injection);
// rejected{reason} + replayed + accepted = received.

export const WEBHOOK_QUEUE = 'queue:webhooks';
export const RUNS_PROCESSED = 'runs:processed';
export const RUNS_LOG = 'runs:log';
const RUNS_LOG_MAXLEN = 200_000;
/** Accounting outlives any storm but not the test bed forever. */
const RUNS_TTL_S = 7 * 86_400;
const IDEMPOTENCY_TTL_S = 86_400;
const BLOCK_TIMEOUT_S = 1;
const DRAIN_RETRY_AFTER_S = 2;

export type HookName = 'agent' | 'wake';

export function processingKey(gatewayId: string): string {
  return `processing:webhooks:${gatewayId}`;
}

const AgentBodySchema = z.looseObject({
  message: z.string().min(1).max(200_000),
  name: z.string().max(200).optional(),
  sessionKey: z.string().min(1).max(500).optional(),
});

const WakeBodySchema = z.looseObject({
  text: z.string().min(1).max(200_000),
  mode: z.enum(['now', 'next-heartbeat']).optional(),
});

const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const JobSchema = z.object({
  runId: z.string(),
  hook: z.enum(['agent', 'wake']),
  key: z.string().nullable(),
  receivedAt: z.string(),
  gateway: z.string(),
  body: z.record(z.string(), z.unknown()),
});
export type WebhookJob = z.infer<typeof JobSchema>;

// KEYS[1] idempotency key, KEYS[2] queue; ARGV[1] runId, ARGV[2] job, ARGV[3] ttl seconds.
// Returns {1, runId} when this call admitted the delivery, {0, existingRunId} for a replay.
const ADMIT_ONCE_LUA = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
redis.call('LPUSH', KEYS[2], ARGV[2])
return {1, ARGV[1]}
`;

const AdmitResultSchema = z.tuple([z.union([z.literal(0), z.literal(1)]), z.string()]);

// Admission control (a gateway under a stampede sheds load at the door instead of growing its
// queue without bound): above `queueLimit` pending jobs on the fleet-wide queue, or `maxInFlight`
// requests in progress on this gateway (webhook admissions and HTTP tool calls, one count: the
// room this replica has), a new delivery gets 429 + Retry-After and nothing is
// acknowledged, so the sender retries; a tool call over `maxInFlight` gets the same 429 + Retry-After
// before any work is done (harness/gateway/tools/route.ts). A replay of a key already admitted is still answered with
// its runId: it adds nothing to the queue. The check and the enqueue are one Lua script, so the
// bound holds under concurrency. Defaults sit far above what the load scenarios reach; storms
// tighten them (and `workMs`, the stand-in agent run time) with PUT /admin/hooks and put them back
// afterwards; a restart restores the defaults.
export const AdmissionSchema = z.strictObject({
  queueLimit: z.number().int().min(1).max(10_000_000),
  maxInFlight: z.number().int().min(1).max(100_000),
  retryAfterS: z.number().int().min(1).max(3_600),
  workMs: z.number().int().min(0).max(60_000),
});
export type Admission = z.infer<typeof AdmissionSchema>;
export const DEFAULT_ADMISSION: Readonly<Admission> = Object.freeze({ queueLimit: 100_000, maxInFlight: 10_000, retryAfterS: 1, workMs: 2 });
const admissions = new WeakMap<GatewayContext, Admission & { inFlight: number }>();

export function admissionFor(ctx: GatewayContext): Admission & { inFlight: number } {
  let a = admissions.get(ctx);
  if (a === undefined) {
    a = { ...DEFAULT_ADMISSION, inFlight: 0 };
    admissions.set(ctx, a);
  }
  return a;
}

// KEYS[1] idempotency key, KEYS[2] queue; ARGV[1] runId, ARGV[2] job, ARGV[3] ttl s, ARGV[4] queue limit.
// {1, runId} admitted, {0, existingRunId} replay, {2, ''} queue full (nothing stored).
const ADMIT_BOUNDED_LUA = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[4]) then return {2, ''} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
redis.call('LPUSH', KEYS[2], ARGV[2])
return {1, ARGV[1]}
`;
// KEYS[1] queue; ARGV[1] job, ARGV[2] queue limit. 1 admitted, 2 queue full.
const ENQUEUE_BOUNDED_LUA = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 2 end
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
`;
const BoundedResultSchema = z.tuple([z.union([z.literal(0), z.literal(1), z.literal(2)]), z.string()]);

/** admit() under a queue bound: `overloaded` when the queue was full (nothing stored, no runId). */
export async function admitBounded(
  ctx: GatewayContext,
  hook: HookName,
  key: string | null,
  body: Record<string, unknown>,
  queueLimit: number,
): Promise<{ runId: string; replayed: boolean; overloaded: boolean }> {
  if (key !== null && ctx.faults.keysInMemory) return admitWithKeyInMemory(ctx, hook, key, body, queueLimit);
  const runId = crypto.randomUUID();
  const raw = jobText(ctx, runId, hook, key, body);
  if (key === null) {
    const r = z.union([z.literal(1), z.literal(2)]).parse(await ctx.redis.eval(ENQUEUE_BOUNDED_LUA, 1, WEBHOOK_QUEUE, raw, queueLimit));
    return { runId, replayed: false, overloaded: r === 2 };
  }
  const res = BoundedResultSchema.parse(
    await ctx.redis.eval(ADMIT_BOUNDED_LUA, 2, `idem:${hook}:${key}`, WEBHOOK_QUEUE, runId, raw, IDEMPOTENCY_TTL_S, queueLimit),
  );
  return { runId: res[1], replayed: res[0] === 0, overloaded: res[0] === 2 };
}

function jobText(ctx: GatewayContext, runId: string, hook: HookName, key: string | null, body: Record<string, unknown>): string {
  const job: WebhookJob = { runId, hook, key, receivedAt: new Date().toISOString(), gateway: ctx.config.id, body };
  return JSON.stringify(job);
}

// The keysInMemory fault: a key → its runId in this process only (a promise while it is being
// admitted, so two concurrent deliveries of one key still get one run), as a real gateway holds
// them. Bounded: past the limit the oldest key is forgotten, as a real gateway's cache also does.
const MEMORY_KEYS_MAX = 200_000;
const memoryKeys = new WeakMap<GatewayContext, Map<string, Promise<string | null>>>();

async function admitWithKeyInMemory(
  ctx: GatewayContext,
  hook: HookName,
  key: string,
  body: Record<string, unknown>,
  queueLimit: number,
): Promise<{ runId: string; replayed: boolean; overloaded: boolean }> {
  let store = memoryKeys.get(ctx);
  if (store === undefined) {
    store = new Map();
    memoryKeys.set(ctx, store);
  }
  const k = `${hook}:${key}`;
  const held = store.get(k);
  if (held !== undefined) {
    const runId = await held;
    if (runId !== null) return { runId, replayed: true, overloaded: false };
  }
  const runId = crypto.randomUUID();
  const admitting = (async () => {
    const r = z.union([z.literal(1), z.literal(2)]).parse(await ctx.redis.eval(ENQUEUE_BOUNDED_LUA, 1, WEBHOOK_QUEUE, jobText(ctx, runId, hook, key, body), queueLimit));
    return r === 1 ? runId : null;
  })();
  store.set(k, admitting);
  if (store.size > MEMORY_KEYS_MAX) {
    const oldest = store.keys().next();
    if (oldest.done !== true) store.delete(oldest.value);
  }
  const forget = () => {
    if (store.get(k) === admitting) store.delete(k);
  };
  let admitted: string | null;
  try {
    admitted = await admitting;
  } catch (err) {
    forget();
    throw err;
  }
  if (admitted === null) {
    forget();
    return { runId: '', replayed: false, overloaded: true };
  }
  return { runId: admitted, replayed: false, overloaded: false };
}

/** Admit one delivery: returns the runId and whether it was a replay of an earlier key. */
export async function admit(
  ctx: GatewayContext,
  hook: HookName,
  key: string | null,
  body: Record<string, unknown>,
): Promise<{ runId: string; replayed: boolean }> {
  const runId = crypto.randomUUID();
  const job: WebhookJob = { runId, hook, key, receivedAt: new Date().toISOString(), gateway: ctx.config.id, body };
  const raw = JSON.stringify(job);
  if (key === null) {
    await ctx.redis.lpush(WEBHOOK_QUEUE, raw);
    return { runId, replayed: false };
  }
  const res = AdmitResultSchema.parse(
    await ctx.redis.eval(ADMIT_ONCE_LUA, 2, `idem:${hook}:${key}`, WEBHOOK_QUEUE, runId, raw, IDEMPOTENCY_TTL_S),
  );
  return { runId: res[1], replayed: res[0] === 0 };
}

const lastDepths = new WeakMap<GatewayContext, { value: number; at: number }>();

/**
 * Pending webhook jobs (LLEN of the fleet-wide queue). Bounded in time for the probe's sake: on a
 * slow or absent Redis it answers the last value read within 5 s, else null.
 */
export async function queueDepth(ctx: GatewayContext, timeoutMs = 150): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const n = await Promise.race([
      ctx.redis.llen(WEBHOOK_QUEUE),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    lastDepths.set(ctx, { value: n, at: Date.now() });
    return n;
  } catch {
    const last = lastDepths.get(ctx);
    return last !== undefined && Date.now() - last.at < 5_000 ? last.value : null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The process that answered a hook delivery, on every answer: `<gateway>@<start ms>`. A storm
 * tells by it whether a replay reached the same process, the same gateway after a restart, or
 * another replica.
 */
export const INSTANCE_HEADER = 'x-gateway-instance';

export function instanceOf(ctx: Pick<GatewayContext, 'config' | 'startedAt'>): string {
  return `${ctx.config.id}@${ctx.startedAt}`;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export function registerHooks(app: FastifyInstance, ctx: GatewayContext): void {
  ctx.metrics.refreshers.push(async () => {
    const n = await queueDepth(ctx, 1_000);
    if (n !== null) ctx.metrics.queueDepth.set({ queue: 'webhooks' }, n);
  });

  const reject = (hook: HookName, reason: 'auth' | 'throttled' | 'invalid' | 'draining' | 'error' | 'overloaded') =>
    ctx.metrics.webhooksRejected.inc({ hook, reason });

  // Body parse failures (bad JSON, wrong content type, too large) answer in the hooks' own shape.
  const errorHandler = (hook: HookName) => async (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500) {
      // Refused before the handler ran, so it was not counted as received yet.
      ctx.metrics.webhooksReceived.inc({ hook });
      reject(hook, 'invalid');
      return reply.code(status).send({ ok: false, error: err.message });
    }
    // Not admitted (typically Redis unreachable): the sender must retry, nothing was acknowledged.
    ctx.log.error('webhook not admitted', { hook, err: err.message });
    reject(hook, 'error');
    return reply.code(503).header('Retry-After', '1').send({ ok: false, error: 'delivery not admitted; retry', reason: 'unavailable' });
  };

  const instance = instanceOf(ctx);
  const handler = (hook: HookName, schema: z.ZodType<Record<string, unknown>>) => async (req: FastifyRequest, reply: FastifyReply) => {
    ctx.metrics.webhooksReceived.inc({ hook });
    void reply.header(INSTANCE_HEADER, instance);
    if (ctx.faults.draining) {
      reject(hook, 'draining');
      return reply
        .code(503)
        .header('Retry-After', String(DRAIN_RETRY_AFTER_S))
        .send({ ok: false, error: 'gateway is draining; retry', reason: 'draining' });
    }
    if (!(await authorize(ctx, 'hooks', req, reply))) {
      reject(hook, reply.statusCode === 429 ? 'throttled' : 'auth');
      return reply;
    }
    const rawKey = headerValue(req.headers['idempotency-key']);
    let key: string | null = null;
    if (rawKey !== undefined) {
      const k = IdempotencyKeySchema.safeParse(rawKey);
      if (!k.success) {
        reject(hook, 'invalid');
        return reply.code(400).send({ ok: false, error: `Idempotency-Key: ${k.error.issues[0]?.message ?? 'invalid'}` });
      }
      key = k.data;
    }
    const body = schema.safeParse(req.body);
    if (!body.success) {
      reject(hook, 'invalid');
      const msg = body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ ok: false, error: msg });
    }
    const adm = admissionFor(ctx);
    if (adm.inFlight >= adm.maxInFlight) {
      reject(hook, 'overloaded');
      return reply.code(429).header('Retry-After', String(adm.retryAfterS)).send({ ok: false, error: 'too many deliveries in flight; retry later', reason: 'overloaded' });
    }
    adm.inFlight += 1;
    let admitted: { runId: string; replayed: boolean; overloaded: boolean };
    try {
      admitted = await admitBounded(ctx, hook, key, body.data, adm.queueLimit);
    } finally {
      adm.inFlight -= 1;
    }
    const { runId, replayed } = admitted;
    if (admitted.overloaded) {
      reject(hook, 'overloaded');
      return reply.code(429).header('Retry-After', String(adm.retryAfterS)).send({ ok: false, error: 'webhook queue full; retry later', reason: 'overloaded' });
    }
    if (replayed) {
      ctx.metrics.webhooksReplayed.inc({ hook });
      return reply.send({ ok: true, runId, replayed: true });
    }
    return reply.send({ ok: true, runId });
  };

  app.post('/hooks/agent', { errorHandler: errorHandler('agent') }, handler('agent', AgentBodySchema));
  app.post('/hooks/wake', { errorHandler: errorHandler('wake') }, handler('wake', WakeBodySchema));

  // Admission settings (see AdmissionSchema): read and changed by storms, put back afterwards.
  const adminGuard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await authorize(ctx, 'admin', req, reply))) return reply;
  };
  const admissionView = () => {
    const { inFlight, ...settings } = admissionFor(ctx);
    return { ...settings, inFlight };
  };
  app.get('/admin/hooks', { preHandler: adminGuard }, async () => admissionView());
  app.put('/admin/hooks', { preHandler: adminGuard }, async (req, reply) => {
    const parsed = AdmissionSchema.partial().safeParse(req.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(parsed.error) });
    Object.assign(admissionFor(ctx), parsed.data);
    ctx.log.info('webhook admission changed', { patch: parsed.data });
    return admissionView();
  });

  // Accounting for storms and drills: how often each acknowledged run was processed, read through
  // the gateway so the harness needs no Redis access of its own.
  const LookupSchema = z.strictObject({ runIds: z.array(z.string().min(1).max(200)).max(10_000) });
  app.post(
    '/admin/runs/lookup',
    {
      preHandler: async (req, reply) => {
        if (!(await authorize(ctx, 'admin', req, reply))) return reply;
      },
    },
    async (req, reply) => {
      const parsed = LookupSchema.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: 'BAD_REQUEST', message: z.prettifyError(parsed.error) });
      const ids = parsed.data.runIds;
      const counts = ids.length === 0 ? [] : await ctx.redis.hmget(RUNS_PROCESSED, ...ids);
      const runs: Record<string, { processed: number }> = {};
      let processed = 0;
      let duplicated = 0;
      ids.forEach((id, i) => {
        const n = Number(counts[i] ?? 0);
        runs[id] = { processed: n };
        if (n >= 1) processed++;
        if (n > 1) duplicated++;
      });
      const [queueDepthNow, processing] = await Promise.all([
        ctx.redis.llen(WEBHOOK_QUEUE),
        ctx.redis.llen(processingKey(ctx.config.id)),
      ]);
      return { runs, summary: { asked: ids.length, processed, missing: ids.length - processed, duplicated }, queueDepth: queueDepthNow, processing };
    },
  );
}

/** Stand-in for the agent run a delivery triggers: a little CPU and a little waiting. */
async function work(job: WebhookJob, waitMs: number): Promise<void> {
  let h = JSON.stringify(job.body);
  for (let i = 0; i < 256; i++) h = crypto.createHash('sha256').update(h).digest('hex');
  await new Promise((r) => setTimeout(r, waitMs));
}


async function record(conn: Redis, ctx: GatewayContext, job: WebhookJob, raw: string): Promise<void> {
  const processing = processingKey(ctx.config.id);
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await conn
        .multi()
        .hincrby(RUNS_PROCESSED, job.runId, 1)
        .expire(RUNS_PROCESSED, RUNS_TTL_S)
        .xadd(RUNS_LOG, 'MAXLEN', '~', RUNS_LOG_MAXLEN, '*', 'runId', job.runId, 'key', job.key ?? '', 'hook', job.hook, 'gateway', ctx.config.id, 'processedAt', new Date().toISOString())
        .lrem(processing, 1, raw)
        .exec();
      const failed = res?.find(([err]) => err !== null);
      if (res === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction aborted');
      return;
    } catch (err) {
      // The job stays in the processing list either way; after a few tries the next start recovers it.
      if (attempt >= 5) throw err;
      await sleep(100 * 2 ** attempt);
    }
  }
}

/**
 * Start `config.webhookWorkers` workers, each on its own Redis connection (BLMOVE blocks it).
 * First re-queues whatever this gateway's processing list still holds from a crash.
 */
export function startWebhookWorkers(ctx: GatewayContext): void {
  const processing = processingKey(ctx.config.id);
  const conns: Redis[] = [];
  let stopping = false;
  const loops: Array<Promise<void>> = [];

  const recover = async (): Promise<number> => {
    let n = 0;
    // Newest first onto the consuming end, so the oldest recovered job is taken next.
    while ((await ctx.redis.lmove(processing, WEBHOOK_QUEUE, 'LEFT', 'RIGHT')) !== null) n++;
    return n;
  };

  const loop = async (conn: Redis, worker: number): Promise<void> => {
    while (!stopping) {
      let raw: string | null;
      try {
        raw = await conn.blmove(WEBHOOK_QUEUE, processing, 'RIGHT', 'LEFT', BLOCK_TIMEOUT_S);
      } catch (err) {
        if (stopping) break;
        ctx.log.warn('webhook worker cannot read the queue', { worker, err: (err as Error).message });
        await sleep(500);
        continue;
      }
      if (raw === null) continue;
      const parsed = JobSchema.safeParse(safeJson(raw));
      if (!parsed.success) {
        // Poison job: park it where an operator can see it instead of retrying it forever.
        ctx.log.error('malformed webhook job moved to dead letter', { worker });
        await conn.multi().lpush(`${WEBHOOK_QUEUE}:dead`, raw).lrem(processing, 1, raw).exec().catch(() => {});
        continue;
      }
      try {
        await work(parsed.data, admissionFor(ctx).workMs);
        await record(conn, ctx, parsed.data, raw);
        ctx.metrics.webhooksProcessed.inc({ hook: parsed.data.hook });
      } catch (err) {
        ctx.log.error('webhook job not recorded; left for recovery', { worker, runId: parsed.data.runId, err: (err as Error).message });
      }
    }
  };

  const started = (async () => {
    try {
      const n = await recover();
      if (n > 0) ctx.log.warn('re-queued webhook jobs left in processing by a previous run', { count: n });
    } catch (err) {
      ctx.log.error('webhook recovery failed', { err: (err as Error).message });
    }
    for (let i = 0; i < ctx.config.webhookWorkers && !stopping; i++) {
      const conn = ctx.redis.duplicate({ lazyConnect: false });
      conn.on('error', () => {});
      conns.push(conn);
      loops.push(loop(conn, i));
    }
  })();

  ctx.onClose.push(async () => {
    stopping = true;
    await started;
    // Each loop finishes its current job; an idle one returns when its BLMOVE times out (1 s).
    await Promise.all(loops);
    await Promise.all(conns.map((c) => c.quit().catch(() => c.disconnect())));
  });
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
