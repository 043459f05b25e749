import type { z } from 'zod';
import { HealthzBody as healthzBody, HookAgentOk as hookAgentOk, HookWakeOk as hookWakeOk, ReadyzBody as readyzBody, ToolsInvokeOk as toolsInvokeOk } from '../../contract/openclaw.ts';
import { HelloOk as helloOk } from '../../contract/ws-frames.ts';
import { HttpDriver, type HttpResponse, type JourneyContext } from '../../src/load/drivers/http.ts';
import { WsSession, type WsCallResult, type WsSessionOptions } from '../../src/load/drivers/ws.ts';
import { SampleSink } from '../../src/load/samples.ts';
import { registerSecret } from '../../src/util/redact.ts';

/**
 * `connect` params the real gateway accepts from a token-authenticated client without a device
 * identity. Protocol 4 (the gateway answers PROTOCOL_MISMATCH to 3, WsSession's default), and a
 * `client.id`/`client.mode` from the gateway's closed enum: "gateway-client"/"backend" is the
 * documented trusted local backend that may omit `device` on loopback (protocol/handshake.md);
 * WsSession's default `clawstorm`/`operator` is refused with INVALID_REQUEST.
 */
export const OPENCLAW_CONNECT_PARAMS = {
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: 'gateway-client', version: '0.1.0', platform: process.platform, mode: 'backend' },
  role: 'operator',
  scopes: ['operator.read', 'operator.write'],
  caps: [],
} as const;

export interface OpenClawTargetOptions {
  /** `http://host:port` of one gateway (HTTP and WebSocket share the port). */
  baseUrl: string;
  gatewayToken: string;
  hookToken: string;
  /** Hook base path (`hooks.path`). Default `/hooks`. */
  hooksPath?: string;
  sink?: SampleSink;
  scenario?: string;
  timeoutMs?: number;
}

export interface Parsed<T> {
  res: HttpResponse;
  /** The body when it has the documented success shape. */
  data?: T;
}

/** A small client for one real OpenClaw gateway's surfaces (contract/README.md), over the project's drivers. */
export class OpenClawTarget {
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly sink: SampleSink;
  private readonly http: HttpDriver;
  private readonly gatewayToken: string;
  private readonly hookToken: string;
  private readonly hooksPath: string;
  private readonly ctx: JourneyContext;
  private readonly stop = new AbortController();

  constructor(opts: OpenClawTargetOptions) {
    const url = new URL(opts.baseUrl);
    this.baseUrl = url.origin;
    this.wsUrl = `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}`;
    this.gatewayToken = opts.gatewayToken;
    this.hookToken = opts.hookToken;
    registerSecret(opts.gatewayToken);
    registerSecret(opts.hookToken);
    this.hooksPath = (opts.hooksPath ?? '/hooks').replace(/\/+$/, '');
    this.sink = opts.sink ?? new SampleSink();
    this.http = new HttpDriver({ baseUrl: this.baseUrl, sink: this.sink, timeoutMs: opts.timeoutMs ?? 30_000 });
    this.ctx = { scenario: opts.scenario ?? 'openclaw', signal: this.stop.signal };
  }

  private async send<T>(step: string, schema: z.ZodType<T> | undefined, spec: Parameters<HttpDriver['send']>[2]): Promise<Parsed<T>> {
    const res = await this.http.send(this.ctx, step, spec);
    if (schema === undefined || res.status < 200 || res.status >= 300) return { res };
    const p = schema.safeParse(res.body);
    return p.success ? { res, data: p.data } : { res };
  }

  healthz(): Promise<Parsed<z.infer<typeof healthzBody>>> {
    return this.send('healthz', healthzBody, { path: '/healthz', tag: 'healthz' });
  }

  /** 200 when ready, 503 while starting or draining: both are answers, so both are "expected". */
  readyz(): Promise<Parsed<z.infer<typeof readyzBody>>> {
    return this.send('readyz', readyzBody, { path: '/readyz', tag: 'readyz', expectStatus: [200, 503] });
  }

  toolsInvoke(
    tool: string,
    args: Record<string, unknown> = {},
    extra: { sessionKey?: string; idempotencyKey?: string; token?: string } = {},
  ): Promise<Parsed<z.infer<typeof toolsInvokeOk>>> {
    const { token, ...rest } = extra;
    return this.send('tools', toolsInvokeOk, {
      method: 'POST',
      path: '/tools/invoke',
      tag: tool,
      headers: { authorization: `Bearer ${token ?? this.gatewayToken}` },
      body: { tool, args, ...rest },
    });
  }

  hookAgent(
    body: { message: string } & Record<string, unknown>,
    opts: { idempotencyKey?: string; token?: string } = {},
  ): Promise<Parsed<z.infer<typeof hookAgentOk>>> {
    return this.send('hooks', hookAgentOk, {
      method: 'POST',
      path: `${this.hooksPath}/agent`,
      tag: 'hooks.agent',
      headers: {
        authorization: `Bearer ${opts.token ?? this.hookToken}`,
        ...(opts.idempotencyKey === undefined ? {} : { 'idempotency-key': opts.idempotencyKey }),
      },
      // deliver:false: no channel is configured, and a hook run must not try to announce.
      body: { deliver: false, ...body },
    });
  }

  hookWake(text: string, opts: { token?: string; expectStatus?: number | readonly number[] } = {}): Promise<Parsed<z.infer<typeof hookWakeOk>>> {
    return this.send('hooks', hookWakeOk, {
      method: 'POST',
      path: `${this.hooksPath}/wake`,
      tag: 'hooks.wake',
      headers: { authorization: `Bearer ${opts.token ?? this.hookToken}` },
      body: { text },
      ...(opts.expectStatus === undefined ? {} : { expectStatus: opts.expectStatus }),
    });
  }

  /** challenge → connect (protocol 4, token) → hello-ok, over the project's WsSession. */
  async connectWs(opts: Partial<Omit<WsSessionOptions, 'sink'>> = {}): Promise<{ session: WsSession; hello: z.infer<typeof helloOk> }> {
    const { connectParams, ...rest } = opts;
    const session = await WsSession.connect(this.wsUrl, this.gatewayToken, {
      scenario: this.ctx.scenario,
      ...rest,
      sink: this.sink,
      connectParams: { ...OPENCLAW_CONNECT_PARAMS, ...(connectParams ?? {}) },
    });
    const hello = helloOk.safeParse(session.hello);
    if (!hello.success) {
      await session.close();
      throw new Error('openclaw: hello-ok payload does not have the documented shape');
    }
    return { session, hello: hello.data };
  }

  /** `tools.invoke` over an open session; tagged with the tool name. */
  wsToolsInvoke(session: WsSession, name: string, args: Record<string, unknown> = {}): Promise<WsCallResult> {
    return session.call('tools.invoke', { name, args }, { tag: name });
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.http.destroy();
  }
}
