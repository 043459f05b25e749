// Keep-alive connections to one origin for the HTTP driver: undici Clients (one connection each)
// with an O(1) free list. undici's Pool finds a free client by scanning all of them on every
// dispatch (twice when the one it picks becomes busy) and re-emits every client's 'drain' as its
// own, with fresh arrays each time; at hundreds of connections a load generator pays for that on
// every request. The HTTP itself (framing, parsing, timeouts, reconnects) stays undici's.
import type { IncomingHttpHeaders } from 'node:http';
import { Client, type Dispatcher } from 'undici';

export interface ClientPoolOptions {
  /** Cap on connections; null for none (every concurrent request gets one). */
  connections: number | null;
  pipelining: number;
  keepAliveTimeoutMs: number;
  localAddress?: string;
}

interface Queued {
  opts: Dispatcher.DispatchOptions;
  handler: Dispatcher.DispatchHandler;
}

export interface ClientPoolStats {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

export class ClientPool {
  private readonly origin: string;
  private readonly opts: ClientPoolOptions;
  private readonly all = new Set<Client>();
  /** Clients with room for another request, most recently freed last (its socket is warm). */
  private readonly idle: Client[] = [];
  /** Requests waiting for a connection (only with a connection cap). */
  private readonly queue: Queued[] = [];
  private queueHead = 0;
  private closed = false;

  constructor(origin: string, opts: ClientPoolOptions) {
    this.origin = origin;
    this.opts = opts;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.closed) {
      handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, new Error('the HTTP driver is closed'));
      return;
    }
    const client = this.idle.pop() ?? this.grow();
    if (client === undefined) this.queue.push({ opts, handler });
    else this.send(client, opts, handler);
  }

  /**
   * A client takes the next request as soon as the last one's response is in: undici queues it
   * and writes it once it has checked the idle socket. Waiting for the client's 'drain' instead
   * (which comes a turn of the event loop later) would open a second connection for a VU that
   * sends its next request at once.
   */
  private send(client: Client, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const tracked = new Released(handler, this, client);
    if (client.dispatch(opts, tracked) && this.opts.pipelining > 1) {
      // Room for another request on this connection right away (pipelining).
      tracked.shared = true;
      this.idle.push(client);
    }
  }

  /** A request on `client` is over (answered or failed). */
  release(client: Client, shared: boolean): void {
    if (shared || !this.all.has(client) || this.closed) return;
    this.freed(client);
  }

  private grow(): Client | undefined {
    const cap = this.opts.connections;
    if (cap !== null && this.all.size >= cap) return undefined;
    const client = new Client(this.origin, {
      pipelining: this.opts.pipelining,
      keepAliveTimeout: this.opts.keepAliveTimeoutMs,
      ...(this.opts.localAddress !== undefined ? { localAddress: this.opts.localAddress } : {}),
      // Set per request from the driver's timeoutMs.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // With pipelining, a client is offered again as soon as it has room ('drain').
    if (this.opts.pipelining > 1) client.on('drain', () => this.freed(client));
    // Like undici's Pool: a client whose connection failed is not used again (a fresh one is
    // made when needed), so a refused origin does not pin requests to a broken client.
    client.on('connectionError', () => this.drop(client));
    this.all.add(client);
    return client;
  }

  private freed(client: Client): void {
    if (!this.all.has(client)) return;
    if (this.idle.includes(client) && this.opts.pipelining > 1) return;
    if (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead] as Queued;
      this.queue[this.queueHead] = undefined as unknown as Queued;
      this.queueHead += 1;
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      this.send(client, next.opts, next.handler);
      return;
    }
    this.idle.push(client);
  }

  private drop(client: Client): void {
    if (!this.all.delete(client)) return;
    const i = this.idle.indexOf(client);
    if (i >= 0) this.idle.splice(i, 1);
    void client.close().catch(() => {});
    // A queued request now has room for a new connection.
    if (this.queueHead < this.queue.length) {
      const fresh = this.grow();
      if (fresh !== undefined) this.freed(fresh);
    }
  }

  get stats(): ClientPoolStats {
    let connected = 0;
    let pending = 0;
    let running = 0;
    let size = 0;
    for (const c of this.all) {
      const s = c.stats;
      if (s.connected) connected += 1;
      pending += s.pending;
      running += s.running;
      size += s.size;
    }
    const queued = this.queue.length - this.queueHead;
    return { connected, free: this.idle.length, pending: pending + queued, queued, running, size: size + queued };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((c) => c.close()));
  }

  /** Drop every connection now; requests still queued fail. */
  async destroy(): Promise<void> {
    this.closed = true;
    const err = new Error('the HTTP driver was destroyed');
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i]?.handler.onResponseError?.(undefined as unknown as Dispatcher.DispatchController, err);
    this.queue.length = 0;
    this.queueHead = 0;
    await Promise.all([...this.all].map((c) => c.destroy()));
  }
}

/** Passes undici's callbacks on to the request's handler, and gives the client back when it ends. */
class Released implements Dispatcher.DispatchHandler {
  /** With pipelining the client went back to the free list at dispatch already. */
  shared = false;
  private readonly inner: Dispatcher.DispatchHandler;
  private readonly pool: ClientPool;
  private readonly client: Client;
  private done = false;

  constructor(inner: Dispatcher.DispatchHandler, pool: ClientPool, client: Client) {
    this.inner = inner;
    this.pool = pool;
    this.client = client;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.end();
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.end();
    this.inner.onResponseError?.(controller, err);
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    // Not from inside undici's callback: it may still be settling the client's queue (a failed
    // connection errors every request queued on it, and asserts the queue empty afterwards).
    // The microtask still runs before the request's own caller resumes, so a VU sending its next
    // request at once finds its connection free.
    queueMicrotask(() => this.pool.release(this.client, this.shared));
  }
}
