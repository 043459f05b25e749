import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { registerSecret, secretCount } from '../../util/redact.ts';
import { statusClassOf, type SampleSink, type StatusClass } from '../samples.ts';
import { ClientPool } from './client-pool.ts';
import { StopFanout, type Stoppable } from './stop-fanout.ts';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-openclaw-token']);

// Values already handed to registerSecret: journeys send the same token with every request. The
// registry only shrinks when cleared (tests), and then this memo is forgotten with it.
const registered = new Set<string>();
let registryFloor = 0;

/** Credentials handed to a driver join the process-wide redaction list, whatever path they took. */
export function registerHeaderSecrets(headers: Record<string, string> | undefined): void {
  if (headers === undefined) return;
  if (secretCount() < registryFloor) {
    registered.clear();
    registryFloor = 0;
  }
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || registered.has(v) || !SECRET_HEADERS.has(k.toLowerCase())) continue;
    if (registered.size < 10_000) registered.add(v);
    registerSecret(v);
    const bearer = /^bearer\s+(.+)$/i.exec(v);
    if (bearer?.[1] !== undefined) registerSecret(bearer[1]);
    registryFloor = secretCount();
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

function hasContentType(headers: Record<string, string>): boolean {
  for (const h in headers) if (h.toLowerCase() === 'content-type') return true;
  return false;
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
 * One request on undici's dispatch interface: the handler collects status, headers and body and
 * settles one promise. Cheaper than pool.request(), which wraps every response in a Readable
 * stream, an AsyncResource and its own abort listener.
 */
class Exchange implements Dispatcher.DispatchHandler, Stoppable {
  readonly promise: Promise<HttpResponse>;
  private resolve!: (r: HttpResponse) => void;
  private reject!: (e: Error) => void;
  private readonly driver: HttpDriver;
  private readonly ctx: JourneyContext;
  private readonly step: string;
  private readonly tag: string;
  private readonly expect: HttpRequestSpec['expectStatus'];
  private readonly timeoutMs: number;
  private readonly t0: number;
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] | undefined;
  private settled = false;
  private stopped = false;
  private inFlight: Set<Exchange> | undefined;

  constructor(driver: HttpDriver, ctx: JourneyContext, step: string, tag: string, spec: HttpRequestSpec, timeoutMs: number) {
    this.driver = driver;
    this.ctx = ctx;
    this.step = step;
    this.tag = tag;
    this.expect = spec.expectStatus;
    this.timeoutMs = timeoutMs;
    this.promise = new Promise<HttpResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.t0 = performance.now();
  }

  watch(inFlight: Set<Exchange>): void {
    this.inFlight = inFlight;
  }

  /** The run is stopping: our own stop is not the target's failure, so no sample. */
  stoppedByRun(): void {
    if (this.settled) return;
    this.settled = true;
    this.stopped = true;
    this.controller?.abort(new RequestAbortedByRunError());
    this.reject(new RequestAbortedByRunError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Stopped while queued in the client: never send it.
    if (this.stopped) controller.abort(new RequestAbortedByRunError());
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: the final answer follows
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks === undefined) this.chunks = [chunk];
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    // Latency is time to last byte: a response is not served until its body is in.
    const latencyMs = performance.now() - this.t0 + (this.ctx.startLagMs ?? 0);
    if (this.settled) return;
    this.settled = true;
    this.inFlight?.delete(this);
    const c = this.chunks;
    const text = c === undefined ? '' : c.length === 1 ? (c[0] as Buffer).toString('utf8') : Buffer.concat(c).toString('utf8');
    let body: unknown = text;
    if (text.length > 0) {
      const ct = this.headers['content-type'];
      if (typeof ct === 'string' && ct.includes('json')) {
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = text;
        }
      }
    }
    const status = this.status;
    const statusClass = statusClassOf(status);
    const ok = isExpected(status, this.expect);
    this.driver.recordSample(this.ctx, this.step, this.tag, statusClass, latencyMs, ok);
    this.resolve({ status, ok, statusClass, headers: this.headers, body, latencyMs });
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    const latencyMs = performance.now() - this.t0 + (this.ctx.startLagMs ?? 0);
    if (this.settled) return;
    this.settled = true;
    this.inFlight?.delete(this);
    if (this.ctx.signal.aborted) {
      this.reject(new RequestAbortedByRunError());
      return;
    }
    const error = describeError(err, this.timeoutMs);
    this.driver.recordSample(this.ctx, this.step, this.tag, 'error', latencyMs, false);
    this.resolve({ status: 0, ok: false, statusClass: 'error', headers: {}, body: undefined, latencyMs, error });
  }
}

/**
 * HTTP journeys over keep-alive undici connections (ClientPool). Each request records one sample
 * tagged {scenario, step, method|tag, status_class}; in open-model iterations the latency includes
 * the iteration's start lag, so it counts from when the request was meant to go out.
 */
export class HttpDriver {
  readonly origin: string;
  private readonly prefix: string;
  private readonly pool: ClientPool;
  private readonly sink: SampleSink;
  /** Shared by every request without headers of its own (undici only reads it). */
  private readonly defaultHeaders: Readonly<Record<string, string>> | undefined;
  private readonly defaultHasContentType: boolean;
  private readonly timeoutMs: number;
  private readonly stops = new StopFanout<Exchange>();

  constructor(opts: HttpDriverOptions) {
    const url = new URL(opts.baseUrl);
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.sink = opts.sink;
    const headers = { ...(opts.headers ?? {}) };
    registerHeaderSecrets(headers);
    this.defaultHeaders = Object.keys(headers).length === 0 ? undefined : Object.freeze(headers);
    this.defaultHasContentType = hasContentType(headers);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.pool = new ClientPool(this.origin, {
      connections: opts.connections ?? null,
      pipelining: opts.pipelining ?? 1,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 30_000,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
    });
  }

  journey(ctx: JourneyContext): HttpJourney {
    return new HttpJourney(this, ctx);
  }

  /** Used by HttpJourney; records the sample. Rejects only when the run's own stop aborted it. */
  send(ctx: JourneyContext, step: string, spec: HttpRequestSpec): Promise<HttpResponse> {
    const watched = this.stops.of(ctx.signal);
    if (watched.stopped) return Promise.reject(new RequestAbortedByRunError());
    const method = spec.method === undefined ? 'GET' : spec.method.toUpperCase();
    let headers = this.defaultHeaders;
    if (spec.headers !== undefined) {
      registerHeaderSecrets(spec.headers);
      headers = headers === undefined ? spec.headers : { ...headers, ...spec.headers };
    }
    let body: string | Uint8Array | undefined;
    if (spec.body !== undefined) {
      if (typeof spec.body === 'string' || spec.body instanceof Uint8Array) body = spec.body;
      else {
        body = JSON.stringify(spec.body);
        if (!this.defaultHasContentType && (spec.headers === undefined || !hasContentType(spec.headers))) {
          headers = { ...headers, 'content-type': 'application/json' };
        }
      }
    }
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const ex = new Exchange(this, ctx, step, spec.tag ?? method, spec, timeoutMs);
    watched.inFlight.add(ex);
    ex.watch(watched.inFlight);
    // undici's own timers bound the wait for headers and for each body chunk; a composite
    // AbortSignal per request (any + timeout) cost ~10% of the engine's CPU in bench/load-engine.
    this.pool.dispatch(
      { origin: this.origin, path: this.prefix + spec.path, method, headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
      ex,
    );
    return ex.promise;
  }

  /** Called by an exchange when its response (or failure) is in. */
  recordSample(ctx: JourneyContext, step: string, tag: string, statusClass: StatusClass, latencyMs: number, ok: boolean): void {
    this.sink.recordTagged(ctx.scenario, step, tag, statusClass, latencyMs, ok, ctx.intendedStart !== undefined);
  }

  /** Connection counters; `pending`/`queued` above 0 mean requests wait inside the client. */
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
