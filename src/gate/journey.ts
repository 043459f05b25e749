// Turns a scenario's declarative journeys into the iteration function the load engine runs.
import { HttpDriver } from '../load/drivers/http.ts';
import type { IterationContext, IterationFn } from '../load/executors/index.ts';
import { sleep } from '../util/sleep.ts';
import { parseDuration } from '../util/duration.ts';
import type { SampleSink } from '../load/samples.ts';
import { render, type Journey, type ScenarioFile, type Step } from '../config/scenario.ts';
import { runWsStep } from './ws-step.ts';

export interface Ack {
  requestId: string;
  auditId: string;
}

export interface JourneyTarget {
  /** Where load goes: the load balancer. */
  baseUrl: string;
  tokens: Record<string, string>;
  runId: string;
  /** `connect` params for ws steps: the target's gateway decides protocol and client identity. */
  wsConnectParams?: Record<string, unknown>;
}

export interface BuiltJourneys {
  iteration: IterationFn<undefined>;
  /** Acknowledged audit writes of steps with recordAck (for the audit-lookup check). */
  acks: Ack[];
  close(): Promise<void>;
}

/**
 * Smooth weighted round-robin: the iteration sequence holds each journey in proportion to its
 * weight and interleaves them (40/25/20/10/5 gives exactly that mix every 100 iterations).
 */
export function weightedSequence(weights: readonly number[], length = 100): number[] {
  const total = weights.reduce((a, w) => a + w, 0);
  const current = weights.map(() => 0);
  const seq: number[] = [];
  for (let n = 0; n < length; n++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] = (current[i] as number) + (weights[i] as number);
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    seq.push(best);
  }
  return seq;
}

/** Value at a dotted path of a parsed JSON answer (`policy.id`). */
function pick(body: unknown, at: string): unknown {
  let cur = body;
  for (const k of at.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function renderHeaders(headers: Record<string, string>, vars: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = String(render(v, vars));
  return out;
}

export function buildJourneys(s: ScenarioFile, target: JourneyTarget, sink: SampleSink, connections: number): BuiltJourneys {
  const driver = new HttpDriver({ baseUrl: target.baseUrl, sink, connections: Math.max(1, Math.min(connections, 512)) });
  const acks: Ack[] = [];
  const seq = weightedSequence(s.journeys.map((j) => j.weight));
  const think = new Map<Journey, number>(s.journeys.map((j) => [j, j.thinkTime ? parseDuration(j.thinkTime) : 0]));

  const token = (name: string): string => {
    const t = target.tokens[name];
    if (t === undefined) throw new Error(`no ${name} token for this target (needed by scenario ${s.name})`);
    return t;
  };

  const runStep = async (ctx: IterationContext<undefined>, step: Step, vars: Record<string, string | number>): Promise<void> => {
    if ('ws' in step) {
      await runWsStep(ctx, step, vars, {
        baseUrl: target.baseUrl,
        token: token('gateway'),
        sink,
        ...(target.wsConnectParams === undefined ? {} : { connectParams: target.wsConnectParams }),
      });
      return;
    }
    const journey = driver.journey(ctx);
    const requestId = `${target.runId}.${s.name}.${ctx.iteration}.${step.name}`;
    const headers: Record<string, string> = { 'x-request-id': requestId, 'x-user-id': String(vars.user) };
    if (s.tenants !== undefined) headers['x-tenant-id'] = String(vars.tenant);
    const timeoutMs = parseDuration(step.timeout);
    const expectStatus = step.expectStatus ?? [200, 201, 202, 204];
    if ('tool' in step) {
      headers.authorization = `Bearer ${token('gateway')}`;
      const res = await journey.request(step.name, {
        method: 'POST',
        path: '/tools/invoke',
        headers,
        body: { tool: step.tool, args: render(step.args, { ...vars, requestId }) },
        tag: step.tool,
        timeoutMs,
        expectStatus,
      });
      if (step.recordAck && res.ok) {
        const body = res.body as { ok?: unknown; auditId?: unknown; requestId?: unknown };
        if (body.ok === true && typeof body.auditId === 'string') {
          acks.push({ requestId: typeof body.requestId === 'string' ? body.requestId : requestId, auditId: body.auditId });
        }
      }
    } else {
      headers.authorization = `Bearer ${token(step.http.token)}`;
      const res = await journey.request(step.name, {
        method: step.http.method,
        path: String(render(step.http.path, vars)),
        // Rendered per iteration: an Idempotency-Key must differ between iterations.
        headers: { ...renderHeaders(step.http.headers, { ...vars, requestId }), ...headers },
        ...(step.http.body === undefined ? {} : { body: render(step.http.body, { ...vars, requestId }) }),
        tag: `${step.http.method} ${step.http.path.split('?')[0]}`,
        timeoutMs,
        expectStatus,
      });
      for (const [name, at] of Object.entries(step.capture)) {
        const v = pick(res.body, at);
        if (typeof v === 'string' || typeof v === 'number') vars[name] = v;
        else delete vars[name];
      }
    }
  };

  const iteration: IterationFn<undefined> = async (ctx) => {
    const j = s.journeys[seq[ctx.iteration % seq.length] as number] as Journey;
    const vars: Record<string, string | number> = {
      vu: ctx.vu,
      iteration: ctx.iteration,
      user: `u-${ctx.vu}`,
      tenant: s.tenants === undefined ? '' : `t-${ctx.vu % s.tenants}`,
      run: target.runId,
      uuid: crypto.randomUUID(),
      now: new Date().toISOString(),
      nowMs: Date.now(),
    };
    if (j.parallel) await Promise.all(j.steps.map((st) => runStep(ctx, st, vars)));
    else for (const st of j.steps) await runStep(ctx, st, vars);
    const pause = think.get(j) ?? 0;
    if (pause > 0) await sleep(pause, ctx.signal);
  };

  return { iteration, acks, close: () => driver.destroy() };
}
