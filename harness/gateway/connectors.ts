import { Pool } from 'undici';
import type { BaseContext, ConnectorClient, ConnectorName } from './context.ts';

export const CONNECTORS: readonly ConnectorName[] = ['gmail', 'calendar', 'jira', 'github', 'gdrive'];

export type ConnectorErrorKind =
  /** Still rate-limited when the attempt or time budget ran out (or retries are off). */
  | 'rate_limited'
  /** Upstream kept failing (5xx, timeouts, connection errors) until the budget ran out. */
  | 'unavailable'
  | 'not_found'
  /** A 4xx other than 404/429: our request was wrong, retrying cannot help. */
  | 'rejected'
  | 'bad_response';

/** What a connector read throws; tools turn it into a typed error answer, never a silent drop. */
export class ConnectorError extends Error {
  readonly connector: ConnectorName;
  readonly kind: ConnectorErrorKind;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly elapsedMs: number;
  constructor(connector: ConnectorName, kind: ConnectorErrorKind, message: string, info: { status?: number; attempts: number; elapsedMs: number }) {
    super(message);
    this.name = 'ConnectorError';
    this.connector = connector;
    this.kind = kind;
    this.status = info.status;
    this.attempts = info.attempts;
    this.elapsedMs = info.elapsedMs;
  }
}

export interface ConnectorOptions {
  /** Attempts per read, first one included. */
  maxAttempts: number;
  /** Wall-clock budget per read, waits included. */
  maxTotalMs: number;
  /** Exponential backoff: full jitter over [0, min(maxDelayMs, baseDelayMs·2^attempt)]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After values above this are clamped (a provider saying "come back in an hour"). */
  maxRetryAfterMs: number;
  requestTimeoutMs: number;
  connections: number;
  random: () => number;
}

export const DEFAULT_CONNECTOR_OPTIONS: ConnectorOptions = {
  maxAttempts: 8,
  maxTotalMs: 60_000,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 10_000,
  connections: 128,
  random: Math.random,
};

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent/garbled. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Delay before retry number `attempt` (1 = first retry). A Retry-After is a floor (never earlier
 * than the provider asked) and full jitter is added on top so that the reads refused together do
 * not come back together; without one, plain exponential backoff with full jitter.
 */
export function backoffDelayMs(attempt: number, retryAfterMs: number | undefined, o: Pick<ConnectorOptions, 'baseDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'random'>): number {
  const window = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt);
  const jitter = Math.floor(o.random() * window);
  if (retryAfterMs === undefined) return jitter;
  return Math.min(retryAfterMs, o.maxRetryAfterMs) + jitter;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

/**
 * Upstream reads through one undici pool. 429s honour Retry-After (bounded), transient failures
 * back off exponentially with full jitter; each read has an attempt and a time budget, and when
 * a budget is spent it throws ConnectorError. While a read waits it is counted in
 * `openclaw_connector_queued{connector}`. When the provider says a shared budget (app/global
 * scope) is exhausted, the whole connector pauses until Retry-After, so reads arriving meanwhile
 * queue behind the ones already waiting instead of spending attempts on certain 429s.
 * `ctx.config.connectorRetries` is read per read, so the admin switch takes effect at once.
 */
export function createConnectorClient(ctx: BaseContext, options: Partial<ConnectorOptions> = {}): ConnectorClient {
  const o: ConnectorOptions = { ...DEFAULT_CONNECTOR_OPTIONS, ...options };
  const pool = new Pool(ctx.config.upstreamUrl, {
    connections: o.connections,
    headersTimeout: o.requestTimeoutMs,
    bodyTimeout: o.requestTimeoutMs,
    keepAliveTimeout: 30_000,
  });
  ctx.onClose.push(() => pool.close());
  const basePath = new URL(ctx.config.upstreamUrl).pathname.replace(/\/$/, '');
  const pausedUntil = new Map<ConnectorName, number>();
  const m = ctx.metrics;
  for (const c of CONNECTORS) m.connectorQueued.set({ connector: c }, 0);

  async function wait(connector: ConnectorName, ms: number): Promise<void> {
    if (ms <= 0) return;
    m.connectorQueued.inc({ connector });
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      m.connectorQueued.dec({ connector });
    }
  }

  async function read(connector: ConnectorName, path: string, userId: string): Promise<unknown> {
    const started = Date.now();
    const deadline = started + o.maxTotalMs;
    const retries = ctx.config.connectorRetries;
    const maxAttempts = retries ? o.maxAttempts : 1;
    let attempt = 0;
    let last: { kind: ConnectorErrorKind; status?: number; detail: string } = { kind: 'unavailable', detail: 'no attempt made' };
    const fail = (kind: ConnectorErrorKind, msg: string, status?: number): ConnectorError => {
      m.connectorRequests.inc({ connector, outcome: 'error' });
      return new ConnectorError(connector, kind, msg, { status, attempts: attempt, elapsedMs: Date.now() - started });
    };

    for (;;) {
      // A paused connector (shared budget exhausted) holds new and retrying reads alike.
      const pause = (pausedUntil.get(connector) ?? 0) - Date.now();
      if (pause > 0 && retries) {
        const ms = pause + Math.floor(o.random() * o.baseDelayMs);
        if (Date.now() + ms > deadline) {
          last = { kind: 'rate_limited', status: 429, detail: 'connector paused by the provider rate limit past the time budget' };
          break;
        }
        await wait(connector, ms);
      }
      attempt++;
      let retryAfterMs: number | undefined;
      try {
        const res = await pool.request({
          path: `${basePath}${path}`,
          method: 'GET',
          headers: { authorization: `Bearer user:${userId}`, accept: 'application/json' },
        });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          try {
            const body: unknown = await res.body.json();
            m.connectorRequests.inc({ connector, outcome: 'ok' });
            return body;
          } catch (err) {
            last = { kind: 'bad_response', status: res.statusCode, detail: `unparseable body: ${(err as Error).message}` };
          }
        } else {
          const text = await res.body.text().catch(() => '');
          if (res.statusCode === 429) {
            m.connector429.inc({ connector });
            retryAfterMs = parseRetryAfter(res.headers['retry-after']) ?? undefined;
            const scope = res.headers['x-ratelimit-scope'];
            if ((scope === 'app' || scope === 'global') && retryAfterMs !== undefined) {
              const until = Date.now() + Math.min(retryAfterMs, o.maxRetryAfterMs);
              if (until > (pausedUntil.get(connector) ?? 0)) pausedUntil.set(connector, until);
            }
            last = { kind: 'rate_limited', status: 429, detail: `429 (retry-after ${res.headers['retry-after'] ?? 'none'})` };
          } else if (RETRYABLE_STATUS.has(res.statusCode)) {
            last = { kind: 'unavailable', status: res.statusCode, detail: `${res.statusCode} ${text.slice(0, 120)}` };
          } else if (res.statusCode === 404) {
            throw fail('not_found', `${connector}: not found (${path.split('?')[0]})`, 404);
          } else {
            throw fail('rejected', `${connector}: upstream refused the request with ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode);
          }
        }
      } catch (err) {
        if (err instanceof ConnectorError) throw err;
        last = { kind: 'unavailable', detail: `${(err as Error & { code?: string }).code ?? 'error'}: ${(err as Error).message}` };
      }

      if (attempt >= maxAttempts) break;
      const delay = backoffDelayMs(attempt, retryAfterMs, o);
      if (Date.now() + delay > deadline) break;
      m.connectorRetries.inc({ connector });
      await wait(connector, delay);
    }
    const why = retries ? `gave up after ${attempt} attempt(s) in ${Date.now() - started} ms` : 'retries are disabled';
    throw fail(last.kind, `${connector}: ${last.detail}; ${why}`, last.status);
  }

  return { read };
}
