import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { registerAuditRoutes } from './audit.ts';
import { registerAutoResponseRoutes } from './auto-response.ts';
import { registerMetricsRoute } from './metrics-json.ts';
import { registerPolicyRoutes } from './policies.ts';
import { registerStatusRoute } from './status.ts';

/**
 * The OpenClaw Enterprise REST API under /api/v1: gateway-token bearer auth, tenant from
 * X-Tenant-Id (default: the gateway's tenant), per-tenant rate limits (ratelimit.ts), errors as
 * {error, message, detail?}.
 */
export function registerApi(app: FastifyInstance, ctx: GatewayContext): void {
  registerPolicyRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerStatusRoute(app, ctx);
  registerMetricsRoute(app, ctx);
  registerAutoResponseRoutes(app, ctx);
}
