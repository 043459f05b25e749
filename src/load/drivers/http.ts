import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { registerSecret } from '../../util/redact.ts';
import { statusClassOf, type SampleSink, type StatusClass } from '../samples.ts';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-openclaw-token']);

/** Credentials handed to a driver join the process-wide redaction list, whatever path they took. */
export function registerHeaderSecrets(headers: Record<string, string> | undefined): void {
  if (headers === undefined) return;
  for (const [k, v] of Object.entries(headers)) {
    if (!SECRET_HEADERS.has(k.toLowerCase())) continue;
    registerSecret(v);
    const bearer = /^bearer\s+(.+)$/i.exec(v);
    if (bearer?.[1] !== undefined) registerSecret(bearer[1]);
  }
}

export interface HttpDriverOptions {
  /** Origin, optionally with a path prefix: `http://127.0.0.1:18789` or `http://host:80/api/v1`. */
  baseUrl: string;
  sink: SampleSink;
  /**
   * Cap on keep-alive connections to the origin. Default: no cap, so every concurrent request has
   * a connection. A cap makes requests wait inside the client, and that wait would be reported as
   * the target's latency (and hide as generator saturation), so cap only on purpose.
   */
  connections?: number;
  pipelining?: number;
  /** Sent with every request (e.g. Authorization). Never logged, never put in errors or samples. */
  headers?: Record<string, string>;
  /** Longest wait for the response headers, and for each body chunk. Default 30 s. */
  timeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Source address of the connections (a 127.x.y.z of its own, so auth throttling per client address hits nobody else). */
  localAddress?: string;
}

/** The slice of an iteration's context a journey needs (IterationContext fits). */
export interface JourneyContext {
  scenario: string;
  signal: AbortSignal;
  /** Open model: the iteration's intended start, performance.now() ms. */
  intendedStart?: number;
  /** Actual minus intended iteration start, ms; added to every latency of the iteration. */
  startLagMs?: number;
}

export interface HttpRequestSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and bytes as they are. */
  body?: unknown;
  /** Statuses that count as success; default: any status below 400. */
  expectStatus?: number | readonly number[];
  /** The `method` tag of the sample (e.g. a tool name); default the HTTP method. */
  tag?: string;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  statusClass: StatusClass;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the response says JSON (and parses), else text. Validate it with zod at the caller. */
  body: unknown;
  latencyMs: number;
  /** Network-level failure (refused, reset, timeout): status is 0 then. */
  error?: string;
}

export class RequestAbortedByRunError extends Error {
  constructor() {
    super('request aborted: the run is stopping');
    this.name = 'AbortError';
  }
}

function isExpected(status: number, expect: HttpRequestSpec['expectStatus']): boolean {
  if (expect === undefined) return status >= 100 && status < 400;
  if (typeof expect === 'number') return status === expect;
  return expect.includes(status);
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return `timeout after ${timeoutMs} ms waiting for response headers`;
  if (code === 'UND_ERR_BODY_TIMEOUT') return `timeout: no body data for ${timeoutMs} ms`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout while connecting';
  const msg = typeof e.message === 'string' ? e.message : String(err);
  // Messages from undici name host and port at most; headers (tokens) never reach them.
  return code !== undefined && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/**
 * HTTP journeys over one undici keep-alive Pool. Each request records one sample tagged
 * {scenario, step, method|tag, status_class}; in open-model iterations the latency includes the
 * iteration's start lag, so it counts from when the request was meant to go out.
 */
export class HttpDriver {
  readonly origin: string;
  private readonly prefix: string;
  private readonly pool: Pool;
  private readonly sink: SampleSink;
  private readonly defaultHeaders: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(opts: HttpDriverOptions) {
    const url = new URL(opts.baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.sink = opts.sink;
    this.defaultHeaders = { ...(opts.headers ?? {}) };
    registerHeaderSecrets(this.defaultHeaders);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.pool = new Pool(this.origin, {
      connections: opts.connections ?? null,
      pipelining: opts.pipelining ?? 1,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      // Set per request from timeoutMs.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  journey(ctx: JourneyContext): HttpJourney {
    return new HttpJourney(this, ctx);
  }

  /** Used by HttpJourney; records the sample. */
  async send(ctx: JourneyContext, step: string, spec: HttpRequestSpec): Promise<HttpResponse> {
    const method = (spec.method ?? 'GET').toUpperCase();
    registerHeaderSecrets(spec.headers);
    const headers: Record<string, string> = { ...this.defaultHeaders, ...(spec.headers ?? {}) };
    let body: string | Uint8Array | undefined;
    if (spec.body !== undefined) {
      if (typeof spec.body === 'string' || spec.body instanceof Uint8Array) body = spec.body;
      else {
        body = JSON.stringify(spec.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
    }
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const lag = ctx.startLagMs ?? 0;
    const tag = spec.tag ?? method;
    const t0 = performance.now();
    let status = 0;
    let resHeaders: IncomingHttpHeaders = {};
    let parsed: unknown;
    let error: string | undefined;
    try {
      // undici's own timers bound the wait for headers and for each body chunk; a composite
      // AbortSignal per request (any + timeout) cost ~10% of the engine's CPU in bench/load-engine.
      const res = await this.pool.request({
        origin: this.origin,
        path: this.prefix + spec.path,
        method,
        headers,
        body,
        signal: ctx.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      resHeaders = res.headers;
      // Latency is time to last byte: a response is not served until its body is in.
      const text = await res.body.text();
      const ct = String(res.headers['content-type'] ?? '');
      parsed = text;
      if (ct.includes('json') && text.length > 0) {
        try {
          parsed = JSON.parse(text) as unknown;
        } catch {
          parsed = text;
        }
      }
    } catch (err) {
      // Our own stop is not the target's failure: no sample, and the iteration ends here.
      if (ctx.signal.aborted) throw new RequestAbortedByRunError();
      status = 0;
      error = describeError(err, timeoutMs);
    }
    const latencyMs = performance.now() - t0 + lag;
    const statusClass = error !== undefined ? 'error' : statusClassOf(status);
    const ok = error === undefined && isExpected(status, spec.expectStatus);
    this.sink.record({
      tags: { scenario: ctx.scenario, step, method: tag, status_class: statusClass },
      latencyMs,
      ok,
      ...(ctx.intendedStart === undefined ? {} : { intendedStart: ctx.intendedStart }),
    });
    return { status, ok, statusClass, headers: resHeaders, body: parsed, latencyMs, ...(error === undefined ? {} : { error }) };
  }

  /** undici pool counters; `pending`/`queued` above 0 mean requests wait inside the client. */
  stats(): { connected: number; free: number; pending: number; queued: number; running: number; size: number } {
    const s = this.pool.stats;
    return { connected: s.connected, free: s.free, pending: s.pending, queued: s.queued, running: s.running, size: s.size };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** For teardown after an abort: drop connections without waiting for in-flight requests. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

/** One iteration's requests: they share its scenario tag, stop signal and start lag. */
export class HttpJourney {
  private readonly driver: HttpDriver;
  private readonly ctx: JourneyContext;

  constructor(driver: HttpDriver, ctx: JourneyContext) {
    this.driver = driver;
    this.ctx = ctx;
  }

  request(step: string, spec: HttpRequestSpec): Promise<HttpResponse> {
    return this.driver.send(this.ctx, step, spec);
  }
}
