// The `ws:` scenario step: one gateway WebSocket session per iteration, held open while it polls.
import { RequestAbortedByRunError } from '../load/drivers/http.ts';
import { WsSession, type WsCloseInfo } from '../load/drivers/ws.ts';
import type { IterationContext } from '../load/executors/index.ts';
import { sleepUntil } from '../util/sleep.ts';
import { parseDuration } from '../util/duration.ts';
import type { SampleSink } from '../load/samples.ts';
import { render, sampleStepNames, type WsStep } from '../config/scenario.ts';

export interface WsStepTarget {
  baseUrl: string;
  token: string;
  /** `connect` params of this target's gateway (protocol, client id/mode…); WsSession's defaults when unset. */
  connectParams?: Record<string, unknown>;
  sink: SampleSink;
}

/** The step's upgrade URL: its path on the target's host, http→ws and https→wss. */
export function wsUrlOf(baseUrl: string, path: string): string {
  const u = new URL(baseUrl);
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}${path}`;
}

/**
 * Open, hold, close. Samples: the handshake on `<name>.connect` (method `connect`), every RPC on
 * `<name>.rpc` (method = the RPC), the closing handshake on `<name>.close` (method `close`; ok
 * when the server answered our close frame with a normal code in time). A session the server
 * ends before the hold is over is a failed `<name>.close` sample without latency, and fails the
 * iteration with the close code; a refused handshake fails it too (after its connect sample).
 */
export async function runWsStep(ctx: IterationContext<undefined>, step: WsStep, vars: Record<string, string | number>, target: WsStepTarget): Promise<void> {
  const [connectStep, rpcStep, closeStep] = sampleStepNames(step) as [string, string, string];
  const timeoutMs = parseDuration(step.timeout);
  const holdMs = parseDuration(step.ws.hold);
  const everyMs = parseDuration(step.ws.every);
  const session = await WsSession.connect(wsUrlOf(target.baseUrl, step.ws.path), target.token, {
    sink: target.sink,
    scenario: ctx.scenario,
    step: connectStep,
    connectTimeoutMs: timeoutMs,
    callTimeoutMs: timeoutMs,
    signal: ctx.signal,
    // Open model: the handshake is the iteration's first request, so it carries the start lag.
    startLagMs: ctx.startLagMs,
    ...(ctx.intendedStart === undefined ? {} : { intendedStart: ctx.intendedStart }),
    ...(target.connectParams === undefined ? {} : { connectParams: target.connectParams }),
  });
  let ended: WsCloseInfo | undefined;
  try {
    const heldFrom = performance.now();
    const until = heldFrom + holdMs;
    const gone = new AbortController();
    void session.closed.then((info) => {
      ended = info;
      gone.abort();
    });
    const wake = AbortSignal.any([ctx.signal, gone.signal]);
    const params = step.ws.calls.map((c) => render(c.params, vars));
    let next = heldFrom;
    while (step.ws.calls.length > 0 && next < until && ended === undefined) {
      if (!(await sleepUntil(next, wake))) break;
      await Promise.all(step.ws.calls.map((c, i) => session.call(c.method, params[i], { step: rpcStep, timeoutMs })));
      // A tick whose answers took longer than `every` delays the next one instead of bunching
      // ticks up afterwards: one session never has two ticks in flight.
      next = Math.max(next + everyMs, performance.now());
    }
    if (ended === undefined) await sleepUntil(until, wake);
    if (ctx.signal.aborted) throw new RequestAbortedByRunError();
    if (ended === undefined) {
      const t0 = performance.now();
      const info = await session.close(parseDuration(step.ws.closeTimeout));
      if (info.initiator === 'client') {
        target.sink.record({
          tags: { scenario: ctx.scenario, step: closeStep, method: 'close', status_class: info.clean ? '2xx' : 'error' },
          latencyMs: performance.now() - t0,
          ok: info.clean,
        });
        if (!info.clean) throw new Error(`${step.name}: unclean close (code ${info.code}${info.reason ? ` ${info.reason}` : ''})`);
        return;
      }
      ended = info;
    }
    if (ended.initiator === 'abort') throw new RequestAbortedByRunError();
    const heldMs = performance.now() - heldFrom;
    target.sink.record({ tags: { scenario: ctx.scenario, step: closeStep, method: 'close', status_class: 'error' }, latencyMs: Number.NaN, ok: false });
    throw new Error(
      `${step.name}: the server ended the session after ${(heldMs / 1000).toFixed(1)} s of a ${(holdMs / 1000).toFixed(1)} s hold (code ${ended.code}${ended.reason ? ` ${ended.reason}` : ''})`,
    );
  } finally {
    // Never leave a socket behind an iteration that threw (a template error, a stop).
    if (session.isOpen) await session.close(1_000);
  }
}
