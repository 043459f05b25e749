import { ConnectorError } from '../connectors.ts';

/**
 * A tool's typed refusal or failure. `outcome` is what the audit entry records: `denied` for
 * rule-based refusals (cross-tenant, round limit), `error` for failures.
 */
export class ToolError extends Error {
  readonly status: number;
  readonly type: string;
  readonly outcome: 'denied' | 'error';
  readonly detail: Record<string, unknown> | undefined;
  constructor(status: number, type: string, message: string, outcome: 'denied' | 'error' = 'error', detail?: Record<string, unknown>) {
    super(message);
    this.name = 'ToolError';
    this.status = status;
    this.type = type;
    this.outcome = outcome;
    this.detail = detail;
  }
}

/** Map whatever a tool threw to the typed error the caller sees. */
export function toToolError(err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  if (err instanceof ConnectorError) {
    const detail = { connector: err.connector, kind: err.kind, attempts: err.attempts, elapsedMs: err.elapsedMs, upstreamStatus: err.status ?? null };
    switch (err.kind) {
      case 'not_found':
        return new ToolError(404, 'not_found', err.message, 'error', detail);
      case 'rate_limited':
        return new ToolError(503, 'connector_rate_limited', err.message, 'error', detail);
      case 'rejected':
        return new ToolError(502, 'connector_rejected', err.message, 'error', detail);
      default:
        return new ToolError(503, 'connector_unavailable', err.message, 'error', detail);
    }
  }
  return new ToolError(500, 'tool_error', err instanceof Error ? err.message : String(err));
}
