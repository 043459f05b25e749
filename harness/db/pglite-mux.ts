import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';

// Why not pglite-socket's own PGLiteSocketServer: its query queue serialises single protocol
// *messages* across connections. node-postgres sends every parameterised query as the
// extended-protocol sequence Parse/Bind/Describe/Execute/Sync, and with several processes
// writing at once another connection's Parse lands between them; the shared session's unnamed
// statement and portal are then overwritten ("portal \"\" does not exist", rows answered to the
// wrong query). Measured with 4 processes × pool 10: dozens of failures per 400 queries.
//
// This queue gives a connection exclusive use of the PGlite session for a whole protocol unit:
// from its first message up to a Sync or simple Query after which no transaction block is open.
// So an extended-protocol query and an explicit BEGIN … COMMIT both run uninterrupted, while
// other connections wait their turn. The message framing, SSL refusal and cancel handling stay
// pglite-socket's (PGLiteSocketHandler with its documented `queryQueue` option).

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

const PROTOCOL_V3 = 196_608;
// 'S' Sync: ends an extended-protocol unit; sent by us to reset a unit a client abandoned.
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** True when the backend is ready for another client after this message (unless in a transaction). */
export function endsUnit(message: Uint8Array): boolean {
  if (message.length >= 8) {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    if (view.getInt32(0) === message.length && view.getInt32(4) === PROTOCOL_V3) return true; // startup
  }
  const type = message[0];
  // Q simple query, S sync, X terminate. P/B/D/E/C/H (and COPY data) continue the unit.
  return type === 0x51 || type === 0x53 || type === 0x58;
}

export class ExclusiveQueryQueue {
  private queue: QueuedMessage[] = [];
  private owner: number | null = null;
  private running = false;
  private readonly db: PGlite;

  constructor(db: PGlite) {
    this.db = db;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A client left mid-unit: end its protocol unit and roll back its transaction, then go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    } finally {
      if (this.owner === handlerId) this.owner = null;
      void this.pump();
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const idx = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        // The owner's next message has not arrived yet: everyone else keeps waiting.
        if (idx < 0 || this.queue.length === 0) break;
        const [item] = this.queue.splice(idx, 1);
        if (item === undefined) break;
        this.owner = item.handlerId;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (d) => {
                bytes += d.length;
                item.onData(d);
              },
            }),
          );
          item.resolve(bytes);
        } catch (err) {
          item.reject(err instanceof Error ? err : new Error(String(err)));
        }
        if (endsUnit(item.message) && !this.db.isInTransaction()) this.owner = null;
      }
    } finally {
      this.running = false;
    }
  }
}

export interface WireServerOptions {
  db: PGlite;
  host: string;
  port: number;
  maxConnections: number;
  idleTimeoutMs: number;
  onError?: (err: Error) => void;
}

export interface WireServer {
  port: number;
  stats(): { activeConnections: number; queuedMessages: number };
  stop(): Promise<void>;
}

export async function startWireServer(opts: WireServerOptions): Promise<WireServer> {
  const queue = new ExclusiveQueryQueue(opts.db);
  // The handler's option is typed with pglite-socket's own queue class (private members, so not
  // structurally assignable); ours implements the same four methods the handler calls.
  const queryQueue = queue as unknown as PGLiteSocketHandlerOptions['queryQueue'];
  const handlers = new Set<PGLiteSocketHandler>();

  const server = net.createServer((socket) => {
    if (handlers.size >= opts.maxConnections) {
      // ErrorResponse 53300 too_many_connections, so clients report a clear reason.
      socket.end(errorResponse('53300', `too many connections (max ${opts.maxConnections})`));
      return;
    }
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true, idleTimeout: opts.idleTimeoutMs });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', (ev) => {
      forget();
      const detail = (ev as CustomEvent<unknown>).detail;
      if (detail instanceof Error && !/ECONNRESET|Idle timeout/.test(detail.message)) opts.onError?.(detail);
    });
    handler.attach(socket).catch((err: unknown) => {
      forget();
      socket.destroy();
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    });
  });
  server.on('error', (err) => opts.onError?.(err));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = addr !== null && typeof addr === 'object' ? addr.port : opts.port;

  return {
    port,
    stats: () => ({ activeConnections: handlers.size, queuedMessages: queue.getQueueLength() }),
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...handlers].map((h) => h.detach(true)));
      handlers.clear();
      await closed;
    },
  };
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from('SFATAL\0'),
    Buffer.from(`C${code}\0`),
    Buffer.from(`M${message}\0`),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}
