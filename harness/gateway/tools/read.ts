import type { z } from 'zod';
import type { ConnectorName, GatewayContext } from '../context.ts';
import { ToolError, toToolError } from './errors.ts';

/** One upstream read through the retrying connector client, its answer parsed at the boundary. */
export async function readParsed<T>(ctx: GatewayContext, connector: ConnectorName, path: string, user: string, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await ctx.connectors.read(connector, path, user);
  } catch (err) {
    throw toToolError(err);
  }
  const p = schema.safeParse(raw);
  if (!p.success) {
    throw new ToolError(502, 'connector_bad_response', `${connector}: unexpected upstream answer: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ')}`);
  }
  return p.data;
}

export const enc = encodeURIComponent;
