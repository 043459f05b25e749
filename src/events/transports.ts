// The two places a run's Faro items go. Both are faro-core transports (BaseTransport), fed by
// faro-core's own events, measurements and logs API, so what they carry is faro-core's types.
//
// - NdjsonTransport: every item, appended synchronously to events.ndjson in the run folder.
// - ReceiverTransport: a Faro receiver (Grafana Alloy `faro.receiver`, Grafana Cloud Frontend
//   Observability) over HTTP, in batches of the receiver's JSON shape (`{meta, events?,
//   measurements?, logs?}`). The run never waits for it: items wait in a bounded queue, one POST
//   is in flight at a time with a short timeout, and whatever the queue cannot hold or the
//   receiver does not accept is dropped and counted — a receiver that is down costs nothing but
//   the count in the report.
import fs from 'node:fs';
import { BaseTransport, getTransportBody, type TransportItem } from '@grafana/faro-core';
import { redactDeep } from '../util/redact.ts';

const VERSION = '1.0.0';
const asArray = (items: TransportItem | TransportItem[]): TransportItem[] => (Array.isArray(items) ? items : [items]);

export class NdjsonTransport extends BaseTransport {
  readonly name = '@clawstorm/transport-ndjson';
  readonly version = VERSION;
  private metaWritten = false;
  written = 0;
  failed: string | null = null;
  private readonly file: string;
  constructor(file: string) {
    super();
    this.file = file;
  }

  send(items: TransportItem | TransportItem[]): void {
    const list = asArray(items);
    const lines: string[] = [];
    if (!this.metaWritten && list[0] !== undefined) {
      lines.push(JSON.stringify({ type: 'meta', payload: redactDeep(list[0].meta) }));
      this.metaWritten = true;
    }
    for (const it of list) lines.push(JSON.stringify({ type: it.type, payload: redactDeep(it.payload) }));
    try {
      fs.appendFileSync(this.file, `${lines.join('\n')}\n`);
      this.written += list.length;
    } catch (err) {
      // The file is a record of the run, not the run: note the failure, keep going.
      this.failed ??= (err as Error).message;
    }
  }
}

export interface ReceiverOptions {
  url: string;
  /** Sent as x-api-key (Grafana Cloud Frontend Observability takes the key in the URL instead). */
  apiKey?: string;
  /** Items waiting at most; beyond it new items are dropped. */
  maxQueue?: number;
  /** Items per POST. */
  batchSize?: number;
  /** A batch waits at most this long for more items, ms. */
  flushMs?: number;
  /** One POST's deadline, ms. */
  timeoutMs?: number;
}

export interface ReceiverStats {
  url: string;
  sent: number;
  dropped: number;
  /** POSTs the receiver did not accept (network error, timeout, non-2xx). */
  failedPosts: number;
  lastError: string | null;
}

export class ReceiverTransport extends BaseTransport {
  readonly name = '@clawstorm/transport-faro-receiver';
  readonly version = VERSION;
  private readonly queue: TransportItem[] = [];
  private inFlight: Promise<void> | null = null;
  private inFlightItems = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly stats: ReceiverStats;
  private readonly o: Required<Omit<ReceiverOptions, 'apiKey'>> & { apiKey?: string };

  constructor(opts: ReceiverOptions) {
    super();
    this.o = { maxQueue: 1000, batchSize: 100, flushMs: 1000, timeoutMs: 2000, ...opts };
    this.stats = { url: opts.url, sent: 0, dropped: 0, failedPosts: 0, lastError: null };
  }

  send(items: TransportItem | TransportItem[]): void {
    for (const it of asArray(items)) {
      if (this.closed || this.queue.length >= this.o.maxQueue) this.stats.dropped += 1;
      else this.queue.push(it);
    }
    if (this.queue.length >= this.o.batchSize) this.pump();
    else if (this.timer === null && this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, this.o.flushMs);
      // A pending flush never keeps the process alive.
      this.timer.unref();
    }
  }

  /** Start one POST when none is in flight; the next starts when it ends. */
  private pump(): void {
    if (this.inFlight !== null || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.o.batchSize);
    this.inFlightItems = batch.length;
    this.inFlight = this.post(batch).finally(() => {
      this.inFlight = null;
      this.inFlightItems = 0;
      if (this.queue.length >= this.o.batchSize || (this.closed && this.queue.length > 0)) this.pump();
      else if (this.queue.length > 0 && this.timer === null) this.send([]);
    });
  }

  private async post(batch: TransportItem[]): Promise<void> {
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.o.apiKey ? { 'x-api-key': this.o.apiKey } : {}) },
        body: JSON.stringify(redactDeep(getTransportBody(batch))),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.stats.sent += batch.length;
    } catch (err) {
      this.stats.failedPosts += 1;
      this.stats.dropped += batch.length;
      this.stats.lastError = (err as Error).message;
    }
  }

  /** Send what is queued, waiting at most `deadlineMs`; what is still queued then is dropped. */
  async close(deadlineMs = 3000): Promise<ReceiverStats> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const until = Date.now() + deadlineMs;
    while ((this.queue.length > 0 || this.inFlight !== null) && Date.now() < until) {
      this.pump();
      const left = until - Date.now();
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.inFlight ?? Promise.resolve(), new Promise<void>((r) => (t = setTimeout(r, Math.max(0, left))))]);
      clearTimeout(t);
    }
    this.stats.dropped += this.queue.splice(0).length;
    // A POST still out at the deadline is not waited for: its items count as dropped (unknown fate).
    return { ...this.stats, dropped: this.stats.dropped + this.inFlightItems };
  }
}
