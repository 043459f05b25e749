// The token rotation drill's three steps (plan §4): overlap (every gateway accepts the primary
// and a newly minted token), clients follow (the drill's load sends the new one), revoke (only
// the kept token is accepted). The journal restores the profile's primary token; before it does,
// clients that followed the rotation move back over a short overlap so the rollback costs them
// no auth failure.
import { z } from 'zod';
import { adminCall, gatewayTokens } from '../../faults/actions.ts';
import { tokenOf } from '../../target/target.ts';
import { redact, registerSecret } from '../../util/redact.ts';
import { mintToken } from '../load.ts';
import { defineStep, type StepContext } from './step.ts';

const TokenName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);

/** Requests already sent with a rotated token finish before it stops being accepted. */
const IN_FLIGHT_GRACE_MS = 1_500;

function followRollback(ctx: StepContext): () => Promise<void> {
  return async () => {
    const load = ctx.load;
    if (load === undefined || !load.active || load.tokenBox.current === 'gateway') return;
    const t = ctx.target;
    try {
      const values = [tokenOf(t, 'gateway'), ...ctx.tokens.minted.values()];
      await Promise.all(t.gateways.map((g) => adminCall(g.url, tokenOf(t, 'admin'), 'PUT', '/admin/tokens', { gateway: values })));
      load.tokenBox.current = 'gateway';
      await ctx.sleep(IN_FLIGHT_GRACE_MS);
      ctx.ev('clients follow the rollback: back on the primary token', 'phase');
    } catch (err) {
      ctx.ev(`clients could not follow the rollback: ${redact((err as Error).message)}`, 'error');
    }
  };
}

export const tokensOverlap = defineStep({
  key: 'tokens.overlap',
  schema: z.strictObject({ token: TokenName }),
  async run(a, ctx) {
    const value = mintToken();
    registerSecret(value);
    ctx.tokens.add(a.token, value);
    ctx.load?.tokenBox.values.set(a.token, value);
    const gws = ctx.target.gateways.map((g) => g.name);
    await gatewayTokens(ctx.target, ctx.journal, ctx.id, gws, [tokenOf(ctx.target, 'gateway'), value], `gateway + ${a.token} (overlap)`);
    ctx.beforeRollback(followRollback(ctx));
    ctx.ev(`overlap: every gateway accepts the primary and ${a.token}`, 'fault');
  },
});

export const clientsRotate = defineStep({
  key: 'clients.rotate',
  schema: z.strictObject({ token: TokenName }),
  async run(a, ctx) {
    ctx.tokens.get(a.token); // must exist: minted by an overlap step or named in the profile
    if (ctx.load !== undefined) ctx.load.tokenBox.current = a.token;
    ctx.ev(`clients follow the rotation: they send ${a.token} now`, 'fault');
  },
});

export const tokensRevoke = defineStep({
  key: 'tokens.revoke',
  schema: z.strictObject({ keep: TokenName }),
  async run(a, ctx) {
    const gws = ctx.target.gateways.map((g) => g.name);
    await gatewayTokens(ctx.target, ctx.journal, ctx.id, gws, [ctx.tokens.get(a.keep)], `${a.keep} only (old token revoked)`);
    ctx.ev(`revoked: every gateway accepts ${a.keep} only`, 'fault');
  },
});

export { TokenName };
