import { z } from 'zod';
import type { GatewayContext, PolicyDomain } from '../context.ts';
import type { ToolCall } from './dispatch.ts';

/** What a tool hands back to the dispatcher: the answer plus what goes into the audit entry. */
export interface ToolOutput {
  result: unknown;
  /** Resource ids read or touched (audit `data_accessed`). */
  dataAccessed: unknown[];
  /** `pending` when the call was parked for a human (OCIP commitments). */
  outcome?: 'success' | 'pending';
  /** Extra audit `action_detail` fields. */
  detail?: Record<string, unknown>;
}

/** Obligations the policy decision attached to an allow. */
export interface Obligations {
  /** The call may proceed only with a human's approval. */
  requireApproval: boolean;
}

/** A tool with its arguments validated and its policy input derived, ready to run. */
export interface PreparedTool {
  classification: string;
  targetSystem: string;
  additional: Record<string, unknown>;
  run(ctx: GatewayContext, call: ToolCall, obligations: Obligations): Promise<ToolOutput>;
}

export interface Tool {
  name: string;
  domain: PolicyDomain;
  /** The tool honours `requireApproval` itself (OCIP escalates); others are parked by the dispatcher. */
  handlesApproval: boolean;
  prepare(rawArgs: unknown, call: ToolCall): { ok: true; tool: PreparedTool } | { ok: false; message: string };
}

/** Every tool accepts `user_id` (the route reads the acting user from it). */
export const UserIdArg = z.string().regex(/^[\w.@+-]{1,128}$/, 'user_id: 1–128 of [A-Za-z0-9_.@+-]').optional();

export function defineTool<S extends z.ZodType>(spec: {
  name: string;
  domain: PolicyDomain;
  schema: S;
  classification: string | ((args: z.output<S>, call: ToolCall) => string);
  targetSystem: string | ((args: z.output<S>) => string);
  additional?: (args: z.output<S>, call: ToolCall) => Record<string, unknown>;
  handlesApproval?: boolean;
  run: (ctx: GatewayContext, call: ToolCall, args: z.output<S>, obligations: Obligations) => Promise<ToolOutput>;
}): Tool {
  return {
    name: spec.name,
    domain: spec.domain,
    handlesApproval: spec.handlesApproval ?? false,
    prepare(rawArgs, call) {
      const parsed = spec.schema.safeParse(rawArgs ?? {});
      if (!parsed.success) {
        return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ') };
      }
      const args: z.output<S> = parsed.data;
      return {
        ok: true,
        tool: {
          classification: typeof spec.classification === 'string' ? spec.classification : spec.classification(args, call),
          targetSystem: typeof spec.targetSystem === 'string' ? spec.targetSystem : spec.targetSystem(args),
          additional: spec.additional?.(args, call) ?? {},
          run: (ctx, c, o) => spec.run(ctx, c, args, o),
        },
      };
    },
  };
}
