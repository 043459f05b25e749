import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ALL_TENANTS, POLICY_DOMAIN_NAMES, POLICY_SCOPES, PolicyContentSchema, type StoredPolicy } from '../../policy/content.ts';
import { hierarchyViolations, shadowedRules, type PolicyCandidate } from '../../policy/hierarchy.ts';
import { POLICIES_CHANGED_CHANNEL, POLICY_COLUMNS, PolicyRowSchema, policyFields, toStored, type PolicyRow } from '../../policy/store.ts';
import { auditedMutation, query } from '../audit.ts';
import type { GatewayContext } from '../context.ts';
import { API_PREFIX, ApiError, guard, handle, parseOr400, requireUuid, withTimeout, type ApiScope } from './common.ts';

// Policy CRUD. Every mutation is one statement that also writes its audit entry; the revision
// trigger of policy.policies bumps policy.revision in the same transaction; the change is then
// announced on Redis `policies:changed` so sidecars reload at once (they poll as a fallback).

const Name = z.string().trim().min(1).max(200);
const ChangeReason = z.string().trim().min(1).max(1000);

export const PolicyCreateSchema = z
  .object({
    scope: z.enum(POLICY_SCOPES),
    scopeId: Name,
    domain: z.enum(POLICY_DOMAIN_NAMES),
    name: Name,
    version: z.number().int().min(1).default(1),
    content: PolicyContentSchema,
    changeReason: ChangeReason,
  })
  .strict();

export const PolicyUpdateSchema = z
  .object({
    scope: z.enum(POLICY_SCOPES).optional(),
    scopeId: Name.optional(),
    domain: z.enum(POLICY_DOMAIN_NAMES).optional(),
    name: Name.optional(),
    /** Optimistic concurrency: when given, must equal the stored version. */
    version: z.number().int().min(1).optional(),
    content: PolicyContentSchema.optional(),
    changeReason: ChangeReason,
  })
  .strict();

const ListQuerySchema = z.object({
  scope: z.enum(POLICY_SCOPES).optional(),
  scope_id: Name.optional(),
  domain: z.enum(POLICY_DOMAIN_NAMES).optional(),
  include_deleted: z.enum(['true', 'false']).default('false'),
  include_global: z.enum(['true', 'false']).default('true'),
});

const DeleteBodySchema = z.object({ changeReason: ChangeReason.optional() }).strict().nullish();

export function policyJson(row: PolicyRow) {
  return {
    ...policyFields(row),
    content: row.content,
    changeReason: row.change_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deletedAt: row.deleted_at === null ? null : row.deleted_at.toISOString(),
  };
}

function rowOf(raw: Record<string, unknown> | undefined): PolicyRow {
  if (raw === undefined) throw new Error('statement returned no row');
  return PolicyRowSchema.parse(raw);
}

async function livePolicies(ctx: GatewayContext, tenant: string, domain: string): Promise<StoredPolicy[]> {
  const res = await query(ctx, 'policy_hierarchy_load', `SELECT ${POLICY_COLUMNS} FROM policy.policies WHERE tenant_id = ANY($1::text[]) AND domain = $2 AND deleted_at IS NULL`, [
    [tenant, ALL_TENANTS],
    domain,
  ]);
  return res.rows.map((r) => toStored(PolicyRowSchema.parse(r)).policy);
}

async function checkHierarchy(ctx: GatewayContext, tenant: string, candidate: PolicyCandidate) {
  const existing = await livePolicies(ctx, tenant, candidate.domain);
  const violations = hierarchyViolations(candidate, existing);
  if (violations.length > 0) {
    throw new ApiError(
      400,
      'POLICY_HIERARCHY_VIOLATION',
      `this ${candidate.scope}-scope policy allows what a higher scope denies (${violations.length} conflict${violations.length > 1 ? 's' : ''})`,
      { violations },
    );
  }
  return shadowedRules(candidate, existing);
}

async function afterChange(ctx: GatewayContext, scope: ApiScope, op: string, id: string): Promise<number> {
  try {
    await withTimeout(ctx.redis.publish(POLICIES_CHANGED_CHANNEL, JSON.stringify({ tenant: scope.tenant, id, op, request_id: scope.requestId, at: new Date().toISOString() })), 1_000, 'redis publish');
  } catch (err) {
    // Committed already; the sidecars' revision poll picks the change up within seconds.
    ctx.log.warn('policies:changed publish failed; sidecars will notice by polling', { err: (err as Error).message });
  }
  const res = await query<{ revision: string }>(ctx, 'policy_revision', 'SELECT revision::text AS revision FROM policy.revision');
  return Number(res.rows[0]?.revision ?? 0);
}

function auditEntry(scope: ApiScope, op: 'create' | 'update' | 'delete', detail: Record<string, unknown>) {
  return {
    tenant_id: scope.tenant,
    user_id: scope.actor,
    action_type: 'policy_change',
    action_detail: { operation: op, ...detail },
    data_accessed: [],
    data_classification: 'internal',
    policy_applied: null,
    policy_result: 'allow' as const,
    policy_reason: null,
    outcome: 'success' as const,
    request_id: scope.requestId,
  };
}

function uniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505';
}

async function loadOne(ctx: GatewayContext, tenant: string, id: string, includeGlobal: boolean): Promise<PolicyRow> {
  const tenants = includeGlobal ? [tenant, ALL_TENANTS] : [tenant];
  const res = await query(ctx, 'policy_get', `SELECT ${POLICY_COLUMNS} FROM policy.policies WHERE id = $1::uuid AND tenant_id = ANY($2::text[])`, [id, tenants]);
  const row = res.rows[0];
  if (row === undefined) throw new ApiError(404, 'NOT_FOUND', `no policy ${id}`);
  return PolicyRowSchema.parse(row);
}

export function registerPolicyRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get(
    `${API_PREFIX}/policies`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'admin');
      if (!scope) return reply;
      const q = parseOr400(ListQuerySchema, req.query, 'query');
      const params: unknown[] = [q.include_global === 'true' ? [scope.tenant, ALL_TENANTS] : [scope.tenant]];
      const where = ['tenant_id = ANY($1::text[])'];
      if (q.include_deleted !== 'true') where.push('deleted_at IS NULL');
      if (q.scope !== undefined) where.push(`scope = $${params.push(q.scope)}`);
      if (q.scope_id !== undefined) where.push(`scope_id = $${params.push(q.scope_id)}`);
      if (q.domain !== undefined) where.push(`domain = $${params.push(q.domain)}`);
      const [rows, rev] = await Promise.all([
        query(ctx, 'policy_list', `SELECT ${POLICY_COLUMNS} FROM policy.policies WHERE ${where.join(' AND ')} ORDER BY domain, scope, scope_id, name LIMIT 5000`, params),
        query<{ revision: string }>(ctx, 'policy_revision', 'SELECT revision::text AS revision FROM policy.revision'),
      ]);
      const policies = rows.rows.map((r) => policyJson(PolicyRowSchema.parse(r)));
      return reply.send({ policies, total: policies.length, revision: Number(rev.rows[0]?.revision ?? 0) });
    }),
  );

  app.get(
    `${API_PREFIX}/policies/:id`,
    handle(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const scope = await guard(ctx, req, reply, 'admin');
      if (!scope) return reply;
      const id = requireUuid(req.params.id, 'policy');
      return reply.send(policyJson(await loadOne(ctx, scope.tenant, id, true)));
    }),
  );

  app.post(
    `${API_PREFIX}/policies`,
    handle(async (req, reply) => {
      const scope = await guard(ctx, req, reply, 'policy_mutation');
      if (!scope) return reply;
      const body = parseOr400(PolicyCreateSchema, req.body, 'policy');
      const id = crypto.randomUUID();
      const warnings = await checkHierarchy(ctx, scope.tenant, { id, ...body });
      let res;
      try {
        res = await auditedMutation(
          ctx,
          'policy_create',
          {
            sql: `INSERT INTO policy.policies (id, tenant_id, scope, scope_id, domain, name, version, content, change_reason)
                  VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING ${POLICY_COLUMNS}`,
            params: [id, scope.tenant, body.scope, body.scopeId, body.domain, body.name, body.version, JSON.stringify(body.content), body.changeReason],
          },
          auditEntry(scope, 'create', { policy_id: id, name: body.name, scope: body.scope, scope_id: body.scopeId, domain: body.domain, version: body.version, change_reason: body.changeReason }),
        );
      } catch (err) {
        if (uniqueViolation(err)) throw new ApiError(409, 'POLICY_EXISTS', `a live ${body.scope} policy '${body.name}' for ${body.scopeId} in domain ${body.domain} already exists`);
        throw err;
      }
      const row = rowOf(res.rows[0]);
      const revision = await afterChange(ctx, scope, 'create', id);
      return reply.code(201).send({ policy: policyJson(row), revision, auditId: res.audit?.id, ...(warnings.length > 0 ? { warnings: { shadowedLowerScopeRules: warnings } } : {}) });
    }),
  );

  app.put(
    `${API_PREFIX}/policies/:id`,
    handle(async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const scope = await guard(ctx, req, reply, 'policy_mutation');
      if (!scope) return reply;
      const id = requireUuid(req.params.id, 'policy');
      const body = parseOr400(PolicyUpdateSchema, req.body, 'policy update');
      const current = await loadOne(ctx, scope.tenant, id, false);
      if (current.deleted_at !== null) throw new ApiError(404, 'NOT_FOUND', `policy ${id} was deleted`);
      if (body.version !== undefined && body.version !== current.version) {
        throw new ApiError(409, 'VERSION_CONFLICT', `policy ${id} is at version ${current.version}, not ${body.version}`, { currentVersion: current.version });
      }
      const next = {
        id,
        scope: body.scope ?? current.scope,
        scopeId: body.scopeId ?? current.scope_id,
        domain: body.domain ?? current.domain,
        name: body.name ?? current.name,
        content: body.content ?? toStored(current).policy.content,
      };
      const warnings = await checkHierarchy(ctx, scope.tenant, next);
      let res;
      try {
        res = await auditedMutation(
          ctx,
          'policy_update',
          {
            // The version guard makes concurrent updates of one policy fail instead of losing one.
            sql: `UPDATE policy.policies SET scope = $3, scope_id = $4, domain = $5, name = $6, content = $7::jsonb, change_reason = $8,
                         version = version + 1, updated_at = now()
                   WHERE id = $1::uuid AND tenant_id = $2 AND deleted_at IS NULL AND version = $9
               RETURNING ${POLICY_COLUMNS}`,
            params: [id, scope.tenant, next.scope, next.scopeId, next.domain, next.name, JSON.stringify(next.content), body.changeReason, current.version],
          },
          auditEntry(scope, 'update', {
            policy_id: id,
            name: next.name,
            scope: next.scope,
            scope_id: next.scopeId,
            domain: next.domain,
            previous_version: current.version,
            version: current.version + 1,
            change_reason: body.changeReason,
          }),
        );
      } catch (err) {
        if (uniqueViolation(err)) throw new ApiError(409, 'POLICY_EXISTS', `a live ${next.scope} policy '${next.name}' for ${next.scopeId} in domain ${next.domain} already exists`);
        throw err;
      }
      if (res.rows.length === 0) throw new ApiError(409, 'VERSION_CONFLICT', `policy ${id} changed concurrently; re-read and retry`);
      const row = rowOf(res.rows[0]);
      const revision = await afterChange(ctx, scope, 'update', id);
      return reply.send({ policy: policyJson(row), revision, auditId: res.audit?.id, ...(warnings.length > 0 ? { warnings: { shadowedLowerScopeRules: warnings } } : {}) });
    }),
  );

  app.delete(
    `${API_PREFIX}/policies/:id`,
    handle(async (req: FastifyRequest<{ Params: { id: string }; Querystring: { reason?: string } }>, reply) => {
      const scope = await guard(ctx, req, reply, 'policy_mutation');
      if (!scope) return reply;
      const id = requireUuid(req.params.id, 'policy');
      const body = parseOr400(DeleteBodySchema, req.body, 'delete body');
      const fromQuery = typeof req.query.reason === 'string' && req.query.reason.trim() !== '' ? req.query.reason.trim().slice(0, 1000) : undefined;
      const reason = body?.changeReason ?? fromQuery ?? 'deleted via API';
      const current = await loadOne(ctx, scope.tenant, id, false);
      if (current.deleted_at !== null) throw new ApiError(404, 'NOT_FOUND', `policy ${id} was already deleted`);
      // Soft delete: the row (and its history in the audit log) stays; sidecars drop it.
      const res = await auditedMutation(
        ctx,
        'policy_delete',
        {
          sql: `UPDATE policy.policies SET deleted_at = now(), updated_at = now(), change_reason = $3
                 WHERE id = $1::uuid AND tenant_id = $2 AND deleted_at IS NULL RETURNING ${POLICY_COLUMNS}`,
          params: [id, scope.tenant, reason],
        },
        auditEntry(scope, 'delete', {
          policy_id: id,
          name: current.name,
          scope: current.scope,
          scope_id: current.scope_id,
          domain: current.domain,
          version: current.version,
          change_reason: reason,
        }),
      );
      if (res.rows.length === 0) throw new ApiError(404, 'NOT_FOUND', `no live policy ${id}`);
      const row = rowOf(res.rows[0]);
      const revision = await afterChange(ctx, scope, 'delete', id);
      return reply.send({ deleted: true, policy: policyJson(row), revision, auditId: res.audit?.id });
    }),
  );
}
