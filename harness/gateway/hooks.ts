// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from './context.ts';
export function registerHooks(_app: FastifyInstance, _ctx: GatewayContext): void {}
export function startWebhookWorkers(_ctx: GatewayContext): void {}
