import { Pool } from 'undici';
import { z } from 'zod';
import type { BaseContext, PolicyClient, PolicyDecision, PolicyDomain, PolicyInput } from './context.ts';

// OPA REST data API client: POST {policyUrl}/v1/data/openclaw/enterprise/<domain> {"input": …}.
// Fails closed: anything but a well-formed decision within the timeout is a deny with error:true.

const DecisionSchema = z.union([
  // A Rego rule may answer a bare boolean (e.g. `allow := …` queried directly).
  z.boolean(),
  z.looseObject({
    allow: z.boolean(),
    reason: z.string().optional(),
    policy: z.string().optional(),
    require_approval: z.boolean().optional(),
  }),
]);
const ResponseSchema = z.looseObject({ result: DecisionSchema.optional() });

export function parseDecision(body: unknown): PolicyDecision {
  const parsed = ResponseSchema.safeParse(body);
  if (!parsed.success) return { allow: false, error: true, reason: 'policy engine answered an unexpected document' };
  const r = parsed.data.result;
  // OPA answers an undefined document with {} (no result): no decision, so no access.
  if (r === undefined) return { allow: false, error: true, reason: 'policy undefined for this domain' };
  if (typeof r === 'boolean') return { allow: r, reason: r ? 'allowed' : 'denied' };
  const d: PolicyDecision = { allow: r.allow, reason: r.reason ?? (r.allow ? 'allowed' : 'denied') };
  if (r.policy !== undefined) d.policy = r.policy;
  if (r.require_approval === true) d.requireApproval = true;
  return d;
}

export function createPolicyClient(ctx: BaseContext): PolicyClient {
  const base = new URL(ctx.config.policyUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeoutMs = ctx.config.policyTimeoutMs;
  // Keep-alive pool: a decision per tool call must not pay a TCP handshake.
  const pool = new Pool(base.origin, {
    connections: 256,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connectTimeout: Math.min(timeoutMs, 2_000),
  });
  ctx.onClose.push(() => pool.close());

  async function ask(domain: PolicyDomain, input: PolicyInput): Promise<PolicyDecision> {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await pool.request({
      method: 'POST',
      path: `${prefix}/v1/data/openclaw/enterprise/${domain}`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ input }),
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      return { allow: false, error: true, reason: `policy engine answered HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}` };
    }
    let body: unknown;
    try {
      body = await res.body.json();
    } catch {
      return { allow: false, error: true, reason: 'policy engine answered malformed JSON' };
    }
    return parseDecision(body);
  }

  return {
    async evaluate(domain, input) {
      const t0 = performance.now();
      let decision: PolicyDecision;
      try {
        decision = await ask(domain, input);
      } catch (err) {
        const e = err as Error & { code?: string };
        const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
        decision = {
          allow: false,
          error: true,
          reason: timedOut ? `policy engine did not answer within ${timeoutMs} ms` : `policy engine unreachable: ${e.code ?? e.message}`,
        };
      }
      const result = decision.error ? 'error' : decision.allow ? 'allow' : 'deny';
      ctx.metrics.policyEvaluations.inc({ domain, result });
      ctx.metrics.policyDuration.observe({ domain }, (performance.now() - t0) / 1000);
      return decision;
    },
  };
}
