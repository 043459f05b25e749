// The steady load a drill runs under: HTTP tool calls and keyed webhook deliveries through the
// load balancer, each an open-model constant-arrival-rate scenario of the load engine. Clients
// read their bearer from a token box, so a rotation drill can move them to a new token (they
// "follow the rotation"). Every acknowledged webhook is kept for the accounting: key → runId, and
// which gateway process answered when (for the duplicate classes).
import crypto from 'node:crypto';
import { HttpDriver } from '../load/drivers/http.ts';
import { runEngine, scenario, type EngineResult } from '../load/engine.ts';
import { SampleSink, type SecondBucket } from '../load/samples.ts';
import { waitFor } from '../util/wait.ts';
import type { MonitorThresholds } from '../load/monitor.ts';
import { gatewayOfServer, type AimGateway } from '../webhooks/aims.ts';
import type { Acked } from '../webhooks/acks.ts';

export interface DrillLoadSpec {
  tools?: { rate: number; tool: string; timeoutMs: number; token: string };
  webhooks?: { rate: number; hook: 'agent' | 'wake'; timeoutMs: number };
}

/** Per-second counts of HTTP statuses, per scenario (the sink keeps classes only). */
class StatusSeries {
  private readonly bySec = new Map<number, Map<string, number>>();
  add(scenario: string, status: number): void {
    const sec = Math.floor(Date.now() / 1000);
    let m = this.bySec.get(sec);
    if (m === undefined) {
      m = new Map();
      this.bySec.set(sec, m);
    }
    const k = `${scenario}:${status}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  /** Responses with `status` in [fromSec, toSec], for one scenario or all. */
  count(status: number, scenario: string, fromSec = 0, toSec = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const [sec, m] of this.bySec) {
      if (sec < fromSec || sec > toSec) continue;
      for (const [k, v] of m) {
        const [sc, st] = k.split(':');
        if (Number(st) === status && (scenario === 'all' || sc === scenario)) n += v;
      }
    }
    return n;
  }
}

export class DrillLoad {
  readonly sink = new SampleSink();
  readonly statuses = new StatusSeries();
  readonly acks: Acked[] = [];
  /** Token names → values the clients may use; `current` is what they send. */
  readonly tokenBox: { current: string; values: Map<string, string> };
  startedAt = 0;
  stoppedAt = 0;
  private readonly spec: DrillLoadSpec;
  private readonly lbUrl: string;
  private readonly hookToken: string | undefined;
  private readonly runId: string;
  private readonly ctrl = new AbortController();
  private stopping = false;
  private inflight = 0;
  private engine: Promise<EngineResult> | undefined;
  private drivers: HttpDriver[] = [];
  private readonly localAddress: string | undefined;

  private readonly monitor: Partial<MonitorThresholds> | undefined;
  /** The target's gateways: which one a load balancer server name (`X-Served-By`) is. */
  private readonly gateways: readonly AimGateway[];

  constructor(opts: { spec: DrillLoadSpec; lbUrl: string; tokens: Record<string, string>; runId: string; localAddress?: string; monitor?: Partial<MonitorThresholds>; gateways?: readonly AimGateway[] }) {
    this.monitor = opts.monitor;
    this.gateways = opts.gateways ?? [];
    this.localAddress = opts.localAddress;
    this.spec = opts.spec;
    this.lbUrl = opts.lbUrl;
    this.runId = opts.runId;
    this.hookToken = opts.tokens.hook;
    const first = opts.spec.tools?.token ?? 'gateway';
    this.tokenBox = { current: first, values: new Map(Object.entries(opts.tokens)) };
  }

  get active(): boolean {
    return this.engine !== undefined && !this.stopping;
  }

  /** Start both scenarios for at most `maxMs` (stop() ends them earlier). */
  start(maxMs: number, outer?: AbortSignal): void {
    if (this.engine !== undefined) return;
    const scenarios = [];
    const duration = `${Math.ceil(maxMs / 1000)}s`;
    const tools = this.spec.tools;
    if (tools !== undefined) {
      const driver = new HttpDriver({ baseUrl: this.lbUrl, sink: this.sink, timeoutMs: tools.timeoutMs, ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
      this.drivers.push(driver);
      scenarios.push(
        scenario({
          name: 'tools',
          executor: { executor: 'constant-arrival-rate', rate: tools.rate, duration, preAllocatedVUs: Math.ceil(tools.rate), maxVUs: Math.ceil(tools.rate * 15), gracefulStop: '2s' },
          iteration: async (ctx) => {
            if (this.stopping) return;
            const token = this.tokenBox.values.get(this.tokenBox.current) ?? '';
            this.inflight += 1;
            try {
              const res = await driver.journey(ctx).request('invoke', {
                method: 'POST',
                path: '/tools/invoke',
                headers: { authorization: `Bearer ${token}`, 'x-correlation-id': `${this.runId}.tools.${ctx.iteration}`, 'x-user-id': `drill-${ctx.vu}` },
                body: { tool: tools.tool, args: { user_id: `drill-${ctx.vu}` } },
                tag: tools.tool,
                timeoutMs: tools.timeoutMs,
                expectStatus: 200,
              });
              this.statuses.add('tools', res.status);
            } finally {
              this.inflight -= 1;
            }
          },
        }),
      );
    }
    const hooks = this.spec.webhooks;
    if (hooks !== undefined && this.hookToken !== undefined) {
      const driver = new HttpDriver({ baseUrl: this.lbUrl, sink: this.sink, timeoutMs: hooks.timeoutMs, ...(this.localAddress ? { localAddress: this.localAddress } : {}) });
      this.drivers.push(driver);
      const hookToken = this.hookToken;
      scenarios.push(
        scenario({
          name: 'webhooks',
          executor: { executor: 'constant-arrival-rate', rate: hooks.rate, duration, preAllocatedVUs: Math.ceil(hooks.rate), maxVUs: Math.ceil(hooks.rate * 15), gracefulStop: '2s' },
          iteration: async (ctx) => {
            if (this.stopping) return;
            const key = `${this.runId}.hook.${ctx.iteration}`;
            this.inflight += 1;
            const sentAt = Date.now();
            try {
              const res = await driver.journey(ctx).request('deliver', {
                method: 'POST',
                path: `/hooks/${hooks.hook}`,
                headers: { authorization: `Bearer ${hookToken}`, 'idempotency-key': key, 'x-correlation-id': key },
                body: this.deliveryBody(key),
                tag: hooks.hook,
                timeoutMs: hooks.timeoutMs,
                expectStatus: 200,
              });
              this.statuses.add('webhooks', res.status);
              const b = res.body as { ok?: unknown; runId?: unknown } | undefined;
              if (res.status === 200 && b !== undefined && b.ok === true && typeof b.runId === 'string') {
                const gateway = gatewayOfServer(this.gateways, header(res.headers['x-served-by']));
                const instance = header(res.headers['x-gateway-instance']);
                this.acks.push({ key, runId: b.runId, ...(gateway !== undefined ? { gateway } : {}), ...(instance !== undefined ? { instance } : {}), sentAt, at: Date.now() });
              }
            } finally {
              this.inflight -= 1;
            }
          },
        }),
      );
    }
    if (scenarios.length === 0) return;
    const signal = outer ? AbortSignal.any([outer, this.ctrl.signal]) : this.ctrl.signal;
    this.startedAt = Date.now();
    this.engine = runEngine(scenarios, { sink: this.sink, signal, progressIntervalMs: 1_000, watchdogSlackMs: 10_000, ...(this.monitor ? { monitor: this.monitor } : {}) });
    this.engine.catch(() => {});
  }

  /** The hook the webhook load delivers to, when it has one. */
  get hook(): 'agent' | 'wake' | undefined {
    return this.spec.webhooks?.hook;
  }

  /** What the webhook load sends for a key (a redelivery sends the same again). */
  deliveryBody(key: string): Record<string, unknown> {
    // deliver:false: the run's reply goes to no channel (a test bed has none to deliver to).
    return this.spec.webhooks?.hook === 'wake' ? { text: `drill delivery ${key}` } : { message: `drill delivery ${key}`, name: 'clawstorm-drill', deliver: false };
  }

  /** Stop starting requests, let in-flight ones finish (bounded), then end the engine. */
  async stop(graceMs = 12_000): Promise<EngineResult | undefined> {
    if (this.engine === undefined) return undefined;
    if (!this.stopping) {
      this.stopping = true;
      this.stoppedAt = Date.now();
    }
    await waitFor(() => this.inflight === 0, { timeoutMs: graceMs, intervalMs: 50, what: 'in-flight drill requests to finish' }).catch(() => {});
    this.ctrl.abort();
    const r = await this.engine.catch(() => undefined);
    await Promise.all(this.drivers.map((d) => d.destroy().catch(() => {})));
    return r;
  }

  /** Per-second buckets of one scenario or all. */
  buckets(scenarioName: 'tools' | 'webhooks' | 'all'): SecondBucket[] {
    this.sink.tick();
    return scenarioName === 'all' ? this.sink.buckets() : this.sink.buckets(scenarioName);
  }

  requests(): { count: number; errors: number } {
    const s = this.sink.summary().totals;
    return { count: s.requests, errors: s.errors };
  }
}

/**
 * The client's per-second series of a drill's load (tool calls and webhook deliveries
 * together), for the report's latency and error-rate charts. Empty when the drill had no load.
 */
export function clientSeries(load: DrillLoad | undefined): SecondBucket[] {
  return load === undefined ? [] : load.buckets('all');
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function mintToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}
