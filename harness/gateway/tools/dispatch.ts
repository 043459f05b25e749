// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { GatewayContext } from '../context.ts';

export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  sessionKey?: string;
  idempotencyKey?: string;
  /** Caller-supplied (X-Request-Id) or generated; becomes the audit entry's request_id. */
  requestId: string;
  userId: string;
  tenantId: string;
  channel: 'http' | 'ws';
}

export type ToolResult =
  | { ok: true; result: unknown; requestId: string; auditId: string }
  | { ok: false; status: number; error: { type: string; message: string }; requestId: string; auditId?: string };

export async function invokeTool(_ctx: GatewayContext, call: ToolCall): Promise<ToolResult> {
  return { ok: false, status: 501, error: { type: 'not_implemented', message: 'stub' }, requestId: call.requestId };
}
