// STUB: to be implemented (see docs/ARCHITECTURE.md); replaced before this lands.
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.ts';
export function registerTools(_app: FastifyInstance, _ctx: GatewayContext): void {}
