// The traffic a canary is judged on: tool calls through the load balancer at a constant arrival
// rate, the whole time the ramp runs, each answer attributed to the server that gave it (HAProxy's
// `X-Served-By`). The same request stream, split by server and time window, is the experiment
// (canary) and the control (stable) of each step's judge — same clients, same moment, same load.
import { HttpDriver } from '../load/drivers/http.ts';
import { runEngine, scenario, type EngineResult } from '../load/engine.ts';
import { SampleSink } from '../load/samples.ts';
import { waitFor } from '../util/wait.ts';

/** One answered (or failed) request. */
export interface Served {
  /** When the answer was in, ms since the epoch. */
  at: number;
  /** The load balancer's server name; null when the answer did not say (a network error). */
  server: string | null;
  latencyMs: number;
  /** HTTP status; 0 for a network-level failure. */
  status: number;
  /** The gateway's admission control turned it away (429, or 503 with Retry-After). */
  rejected: boolean;
  /** A tool call, or a webhook delivery (latency is judged on tool calls only: one kind of work). */
  kind: 'tool' | 'hook';
}

export interface TrafficSpec {
  /** Requests per second. */
  rate: number;
  tool: string;
  timeoutMs: number;
  token: string;
  runId: string;
  /** Webhook deliveries a second besides (keyed, `deliver: false`); 0 or absent: none. */
  hooksRate?: number;
  hookToken?: string;
}

export class CanaryTraffic {
  readonly served: Served[] = [];
  readonly sink = new SampleSink();
  private readonly spec: TrafficSpec;
  private readonly lbUrl: string;
  private readonly ctrl = new AbortController();
  private readonly engines: Array<Promise<EngineResult>> = [];
  private driver: HttpDriver | undefined;
  private inflight = 0;
  private stopping = false;
  private endsAt = 0;
  /** Offered tool calls and webhook deliveries a second now (the base rates, times a surge). */
  private offered = { tools: 0, hooks: 0 };

  constructor(lbUrl: string, spec: TrafficSpec) {
    this.lbUrl = lbUrl;
    this.spec = spec;
  }

  /** Requests a second offered now: tool calls plus webhook deliveries. */
  get offeredRate(): number {
    return this.offered.tools + this.offered.hooks;
  }

  /** Runs until stop() (bounded by maxMs). */
  start(maxMs: number, name = 'canary-traffic'): void {
    if (this.driver !== undefined) return;
    const s = this.spec;
    this.driver = new HttpDriver({ baseUrl: this.lbUrl, sink: this.sink, timeoutMs: s.timeoutMs });
    this.endsAt = Date.now() + maxMs;
    this.run(name, s.rate, s.hooksRate ?? 0, maxMs);
  }

  /**
   * A capacity surge: the offered load becomes `factor` times the base rates from now on, as a
   * second arrival stream of (factor − 1) × the rates beside the first (same clients, same
   * attribution), until stop().
   */
  surge(factor: number, name = 'canary-surge'): void {
    if (this.driver === undefined) throw new Error('canary traffic: surge before start');
    if (!(factor > 1)) return;
    const s = this.spec;
    const maxMs = Math.max(1_000, this.endsAt - Date.now());
    this.run(name, s.rate * (factor - 1), (s.hooksRate ?? 0) * (factor - 1), maxMs);
  }

  private run(name: string, toolRate: number, hooksRate: number, maxMs: number): void {
    const s = this.spec;
    const driver = this.driver!;
    const duration = `${Math.ceil(maxMs / 1000)}s`;
    const all = [
      scenario({
        name,
        executor: { executor: 'constant-arrival-rate', rate: toolRate, duration, preAllocatedVUs: Math.ceil(toolRate), maxVUs: Math.ceil(toolRate * 15), gracefulStop: '2s' },
        iteration: async (ctx) => {
          if (this.stopping) return;
          this.inflight += 1;
          try {
            const res = await driver.journey(ctx).request('invoke', {
              method: 'POST',
              path: '/tools/invoke',
              headers: { authorization: `Bearer ${s.token}`, 'x-correlation-id': `${s.runId}.${name === 'canary-traffic' ? 'canary' : name}.${ctx.iteration}`, 'x-user-id': `canary-${ctx.vu}` },
              body: { tool: s.tool, args: { user_id: `canary-${ctx.vu}` } },
              tag: s.tool,
              timeoutMs: s.timeoutMs,
              expectStatus: 200,
            });
            this.record(res, 'tool');
          } finally {
            this.inflight -= 1;
          }
        },
      }),
    ];
    this.offered.tools += toolRate;
    if (hooksRate > 0 && s.hookToken !== undefined) {
      const hookToken = s.hookToken;
      this.offered.hooks += hooksRate;
      all.push(
        scenario({
          name: `${name}-hooks`,
          executor: { executor: 'constant-arrival-rate', rate: hooksRate, duration, preAllocatedVUs: Math.ceil(hooksRate), maxVUs: Math.ceil(hooksRate * 15), gracefulStop: '2s' },
          iteration: async (ctx) => {
            if (this.stopping) return;
            this.inflight += 1;
            const key = `${s.runId}.${name}.hook.${ctx.iteration}`;
            try {
              const res = await driver.journey(ctx).request('deliver', {
                method: 'POST',
                path: '/hooks/agent',
                headers: { authorization: `Bearer ${hookToken}`, 'idempotency-key': key, 'x-correlation-id': key },
                body: { message: `canary delivery ${key}`, name: 'clawstorm-canary', deliver: false },
                tag: 'agent',
                timeoutMs: s.timeoutMs,
                expectStatus: 200,
              });
              this.record(res, 'hook');
            } finally {
              this.inflight -= 1;
            }
          },
        }),
      );
    }
    const engine = runEngine(all, { sink: this.sink, signal: this.ctrl.signal, progressIntervalMs: 1_000, watchdogSlackMs: 10_000 });
    engine.catch(() => {});
    this.engines.push(engine);
  }

  private record(res: { headers: Record<string, string | string[] | undefined>; latencyMs: number; status: number }, kind: Served['kind']): void {
    const by = res.headers['x-served-by'];
    const server = (Array.isArray(by) ? by[0] : by) ?? null;
    const rejected = res.status === 429 || (res.status === 503 && res.headers['retry-after'] !== undefined);
    this.served.push({ at: Date.now(), server, latencyMs: res.latencyMs, status: res.status, rejected, kind });
  }

  /** Answers in [from, to) (ms). */
  window(from: number, to: number): Served[] {
    return this.served.filter((s) => s.at >= from && s.at < to);
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.driver === undefined) return;
    this.stopping = true;
    await waitFor(() => this.inflight === 0, { timeoutMs: graceMs, intervalMs: 50, what: 'in-flight canary requests to finish' }).catch(() => {});
    this.ctrl.abort();
    await Promise.all(this.engines.map((e) => e.catch(() => undefined)));
    await this.driver.destroy().catch(() => {});
  }
}
