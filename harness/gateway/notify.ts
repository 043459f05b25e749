import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import client from 'prom-client';
import type { GatewayContext } from './context.ts';
import { CORRELATION_ID_RE } from '../../contract/ids.ts';

// Failure events for the notifier (harness/notifier): when a webhook or tool request fails with a
// 5xx or a 429, the gateway posts {status, correlationId, az, gateway, retryCount, ts} to
// `config.notifierUrl`, fire-and-forget: nothing here can fail or slow a request.
//
// At most one POST is in flight; events that arrive meanwhile leave together in the next one, so
// a storm of 429s costs a handful of requests rather than one per failure. Each event is first
// appended to a spool file in the gateway's data dir (a write to the page cache, before the
// answer leaves), and the spool's acknowledged offset advances only once the notifier took the
// batch: a gateway killed with events in flight sends them when it starts again. The notifier
// drops the duplicates a crash between "taken" and "offset written" can cause.

export interface FailureEvent {
  status: number;
  correlationId: string;
  az: string;
  gateway: string;
  retryCount: number;
  ts: string;
  route: string;
}

const MAX_BUFFER = 200_000;
const POST_TIMEOUT_MS = 2_000;
const MAX_BATCH = 5_000;
/** Tries per batch before its events are given up (counted as failed). */
const MAX_TRIES = 5;

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function correlationOf(req: FastifyRequest, processTag: string): string {
  for (const name of ['x-correlation-id', 'x-request-id', 'idempotency-key']) {
    const v = header(req.headers[name]);
    if (v !== undefined && CORRELATION_ID_RE.test(v)) return v;
  }
  // Fastify's request ids restart at 1 with the process: tag them with this process.
  return `${processTag}-${req.id}`;
}

function retryCountOf(req: FastifyRequest): number {
  const n = Number(header(req.headers['x-retry-count']));
  return Number.isInteger(n) && n >= 0 && n <= 1_000_000 ? n : 0;
}

interface Spooled {
  ev: FailureEvent;
  bytes: number;
}

export function registerNotifier(app: FastifyInstance, ctx: GatewayContext): void {
  const base = ctx.config.notifierUrl;
  if (base === undefined) return;
  const endpoint = new URL('/events', base).toString();
  const processTag = `${ctx.config.id}-${ctx.startedAt.toString(36)}`;
  const counter = new client.Counter({
    name: 'openclaw_notifier_events_total',
    help: 'Failure events for the notifier, by outcome (sent; failed: given up after retries; dropped: buffer full).',
    labelNames: ['outcome'] as const,
    registers: [ctx.metrics.registry],
  });

  // ── spool ──
  const spoolFile = path.join(ctx.config.dataDir, 'notifier-spool.jsonl');
  const ackFile = `${spoolFile}.acked`;
  fs.mkdirSync(ctx.config.dataDir, { recursive: true });
  let buffer: Spooled[] = [];
  let written = 0;
  let acked = 0;
  try {
    acked = Number(fs.readFileSync(ackFile, 'utf8').trim()) || 0;
  } catch {
    acked = 0;
  }
  try {
    const text = fs.readFileSync(spoolFile);
    written = text.length;
    // Events a previous process spooled but never got acknowledged: they go first.
    if (acked < written) {
      for (const line of text.subarray(acked).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          buffer.push({ ev: JSON.parse(line) as FailureEvent, bytes: Buffer.byteLength(line) + 1 });
        } catch {
          // a torn last line of a crash: nothing to resend
        }
      }
      if (buffer.length > 0) ctx.log.warn('re-sending failure events spooled by a previous run', { count: buffer.length });
    }
  } catch {
    written = 0;
  }
  if (buffer.length === 0) {
    written = 0;
    acked = 0;
  }
  const fd = fs.openSync(spoolFile, buffer.length === 0 ? 'w' : 'a', 0o600);
  const writeAcked = () => {
    try {
      fs.writeFileSync(ackFile, String(acked));
    } catch {
      // the worst case is a duplicate the notifier drops
    }
  };
  writeAcked();

  let inFlight: Promise<void> | undefined;
  let tries = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const post = async (batch: Spooled[]): Promise<boolean> => {
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch.map((b) => b.ev) }),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`notifier answered ${res.status}`);
      return true;
    } catch (err) {
      if (tries === 0) ctx.log.warn('failure events not delivered to the notifier (will retry)', { count: batch.length, err: (err as Error).message });
      return false;
    }
  };

  const settle = (batch: Spooled[], outcome: 'sent' | 'failed') => {
    counter.inc({ outcome }, batch.length);
    acked += batch.reduce((a, b) => a + b.bytes, 0);
    if (buffer.length === 0 && acked >= written) {
      // Everything acknowledged: start the spool over.
      try {
        fs.ftruncateSync(fd, 0);
        written = 0;
        acked = 0;
      } catch {
        // keep appending
      }
    }
    writeAcked();
  };

  const pump = (): void => {
    if (inFlight !== undefined || retryTimer !== undefined || buffer.length === 0) return;
    const batch = buffer.slice(0, MAX_BATCH);
    buffer = buffer.slice(batch.length);
    inFlight = post(batch).then((ok) => {
      inFlight = undefined;
      if (ok) {
        tries = 0;
        settle(batch, 'sent');
        pump();
        return;
      }
      tries += 1;
      if (tries >= MAX_TRIES) {
        tries = 0;
        settle(batch, 'failed');
        pump();
        return;
      }
      buffer = [...batch, ...buffer];
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        pump();
      }, 250 * 2 ** tries);
      retryTimer.unref();
    });
  };

  // onSend: spooled before the answer leaves, so every failure a client sees has its event.
  app.addHook('onSend', async (req, reply, payload) => {
    const status = reply.statusCode;
    if (status !== 429 && status < 500) return payload;
    const route = req.routeOptions.url;
    if (route === undefined || !(route.startsWith('/hooks/') || route.startsWith('/tools/'))) return payload;
    if (buffer.length >= MAX_BUFFER) {
      counter.inc({ outcome: 'dropped' });
      return payload;
    }
    const ev: FailureEvent = {
      status,
      correlationId: correlationOf(req, processTag),
      az: ctx.config.az,
      gateway: ctx.config.id,
      retryCount: retryCountOf(req),
      ts: new Date().toISOString(),
      route,
    };
    const line = `${JSON.stringify(ev)}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      fs.writeSync(fd, line);
      written += bytes;
    } catch {
      // no spool (disk full): the event still goes out from memory
    }
    buffer.push({ ev, bytes });
    pump();
    return payload;
  });

  // A draining gateway sends what it still holds before it exits (bounded by the POST timeout).
  ctx.onClose.push(async () => {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    for (let i = 0; i < 3 && (inFlight !== undefined || buffer.length > 0); i++) {
      pump();
      await inFlight;
    }
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  });
}
