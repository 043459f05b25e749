import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AUDIT_ENTRY_FIELDS, exportAudit, getAuditEntry, queryAudit, type AuditEntry } from '../audit.ts';
import type { GatewayContext } from '../context.ts';
import { csvRow } from './csv.ts';
import { API_PREFIX, ApiError, guard, handle, parseOr400, requireUuid } from './common.ts';
import { AuditExportSchema, AuditQuerySchema, filtersOf } from './params.ts';

async function* jsonArray(rows: AsyncGenerator<AuditEntry>): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for await (const r of rows) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(r)}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}

async function* csv(rows: AsyncGenerator<AuditEntry>): AsyncGenerator<string> {
  yield csvRow(AUDIT_ENTRY_FIELDS);
  for await (const r of rows) yield csvRow(AUDIT_ENTRY_FIELDS.map((f) => r[f]));
}

export function registerAuditRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get(
    `${API_PREFIX}/audit`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'audit_get');
      if (!scope) return reply;
      const q = parseOr400(AuditQuerySchema, req.query, 'query');
      return reply.send(await queryAudit(ctx, scope.tenant, filtersOf(q), q.page, q.page_size));
    }),
  );

  // Registered before /audit/:id so "export" is never read as an id.
  app.get(
    `${API_PREFIX}/audit/export`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'audit_export');
      if (!scope) return reply;
      const q = parseOr400(AuditExportSchema, req.query, 'query');
      const rows = exportAudit(ctx, scope.tenant, filtersOf(q), q.limit);
      // Pull the first batch before committing to 200, so a store failure is still a clean error.
      const first = await rows.next();
      async function* all(): AsyncGenerator<AuditEntry> {
        if (first.done !== true) yield first.value;
        yield* rows;
      }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const body = q.format === 'csv' ? csv(all()) : jsonArray(all());
      const stream = Readable.from(body);
      stream.on('error', (err) => ctx.log.error('audit export aborted midway', { err: err.message, request_id: scope.requestId }));
      return reply
        .header('content-type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${scope.tenant}-${stamp}.${q.format}"`)
        .send(stream);
    }),
  );

  app.get(
    `${API_PREFIX}/audit/:id`,
    handle(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const scope = await guard(ctx, req, reply, 'audit_get');
      if (!scope) return reply;
      const id = requireUuid(req.params.id, 'audit entry');
      const entry = await getAuditEntry(ctx, scope.tenant, id);
      if (entry === undefined) throw new ApiError(404, 'NOT_FOUND', `no audit entry ${id}`);
      return reply.send(entry);
    }),
  );
}
