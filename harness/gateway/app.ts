import Fastify, { type FastifyInstance } from 'fastify';
import type { GatewayContext } from './context.ts';
import { statusClass } from './metrics.ts';
import { registerFaultHooks, registerAdmin } from './faults.ts';
import { registerProbes } from './probes.ts';
import { registerTools } from './tools/route.ts';
import { registerHooks } from './hooks.ts';
import { registerApi } from './api/index.ts';
import { registerWebSocket } from './ws.ts';
import { registerNotifier } from './notify.ts';

export async function buildApp(ctx: GatewayContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, trustProxy: true, bodyLimit: 1_048_576 });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const cls = statusClass(reply.statusCode);
    ctx.metrics.httpDuration.observe({ route, method: req.method, status_class: cls }, reply.elapsedTime / 1000);
    ctx.metrics.httpResponses.inc({ status_class: cls });
  });

  // Errors leave in the Enterprise API's shape {error, message, detail?}; internals stay in the log.
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) ctx.log.error('request failed', { route: req.routeOptions.url, err: err.message });
    await reply.code(status).send({
      error: status >= 500 ? 'INTERNAL' : (err.code ?? 'BAD_REQUEST'),
      message: status >= 500 ? 'internal error' : err.message,
    });
  });
  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/metrics', async (_req, reply) => {
    await ctx.metrics.refresh();
    await reply.header('content-type', ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  registerFaultHooks(app, ctx);
  registerProbes(app, ctx);
  registerAdmin(app, ctx);
  registerTools(app, ctx);
  registerHooks(app, ctx);
  registerApi(app, ctx);
  registerWebSocket(app, ctx);
  registerNotifier(app, ctx);
  return app;
}
