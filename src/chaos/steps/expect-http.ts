// One request per gateway (or through the load balancer) with a named token that must get a
// given status — "a revoked token gets 401" — judged as a threshold. It sends from a loopback
// address of its own, so a deliberate auth failure throttles no other client.
import { Agent, request } from 'undici';
import { z } from 'zod';
import { gatewayOf } from '../../target/target.ts';
import { randomLoopback } from '../../util/ids.ts';
import { GatewaySet } from './gateway-faults.ts';
import { defineStep, gatewaysIn } from './step.ts';
import { TokenName } from './tokens.ts';

export default defineStep({
  key: 'expect.http',
  schema: z.strictObject({
    via: z.union([z.literal('lb'), GatewaySet]).default('all'),
    method: z.enum(['GET', 'POST', 'PUT']).default('POST'),
    path: z.string().startsWith('/'),
    token: TokenName,
    body: z.unknown().optional(),
    status: z.number().int().min(100).max(599),
  }),
  refs: (e) => (Array.isArray(e.via) ? e.via.map((g) => ({ field: 'via', kind: 'gateway' as const, name: g })) : []),
  async run(e, ctx) {
    const t = ctx.target;
    const bases = e.via === 'lb' ? [{ name: 'lb', url: t.lbUrl }] : gatewaysIn(e.via, t.gateways.map((g) => g.name)).map((g) => ({ name: g, url: gatewayOf(t, g).url }));
    // An unknown token name is the drill's error, not something a gateway answered: raise it
    // before any request instead of reporting it once per gateway as a failed expectation.
    const bearer = ctx.tokens.get(e.token);
    const agent = new Agent({ localAddress: randomLoopback() } as ConstructorParameters<typeof Agent>[0]);
    const seen: string[] = [];
    let worst: number | null = null;
    let ok = true;
    try {
      for (const b of bases) {
        try {
          const r = await request(`${b.url}${e.path}`, {
            method: e.method,
            dispatcher: agent,
            headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'x-correlation-id': `${ctx.runId}.expect` },
            body: e.body === undefined ? (e.method === 'GET' ? undefined : '{}') : JSON.stringify(e.body),
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          });
          await r.body.text();
          seen.push(`${b.name} ${r.statusCode}`);
          if (r.statusCode !== e.status) {
            ok = false;
            worst = r.statusCode;
          } else worst ??= r.statusCode;
        } catch (err) {
          ok = false;
          seen.push(`${b.name} ${(err as Error).message}`);
        }
      }
    } finally {
      await agent.close().catch(() => {});
    }
    ctx.threshold({ name: ctx.label, source: 'client', expr: `${e.method} ${e.path} with token ${e.token} → ${e.status}`, observed: worst, verdict: ok ? 'pass' : 'fail', detail: seen.join(', ') });
    ctx.ev(`${ctx.label}: ${seen.join(', ')}`, 'measure');
  },
});
