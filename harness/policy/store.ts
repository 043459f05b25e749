import type pg from 'pg';
import { z } from 'zod';
import { POLICY_DOMAIN_NAMES, POLICY_SCOPES, PolicyContentSchema, type PolicyContent, type StoredPolicy } from './content.ts';

export const POLICY_COLUMNS = 'id, tenant_id, scope, scope_id, domain, name, version, content, change_reason, created_at, updated_at, deleted_at';

export const PolicyRowSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  scope: z.enum(POLICY_SCOPES),
  scope_id: z.string(),
  domain: z.enum(POLICY_DOMAIN_NAMES),
  name: z.string(),
  version: z.number().int(),
  content: z.unknown(),
  change_reason: z.string().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
  deleted_at: z.date().nullable(),
});
export type PolicyRow = z.infer<typeof PolicyRowSchema>;

/**
 * Stored content that does not parse (edited by hand, older format) must not open anything up:
 * it becomes "deny everything in this domain at this scope" until fixed.
 */
export function parseContent(raw: unknown): { content: PolicyContent; valid: boolean } {
  const parsed = PolicyContentSchema.safeParse(raw);
  if (parsed.success) return { content: parsed.data, valid: true };
  return {
    content: { rules: [{ effect: 'deny', reason: 'policy content is invalid; denying until it is fixed' }] },
    valid: false,
  };
}

/** A row's identity and placement in camelCase: what the sidecar and the API both show of it. */
export function policyFields(row: PolicyRow) {
  return { id: row.id, tenantId: row.tenant_id, scope: row.scope, scopeId: row.scope_id, domain: row.domain, name: row.name, version: row.version };
}

export function toStored(row: PolicyRow): { policy: StoredPolicy; valid: boolean } {
  const { content, valid } = parseContent(row.content);
  return { policy: { ...policyFields(row), content }, valid };
}

export interface PolicySnapshot {
  revision: number;
  policies: StoredPolicy[];
  /** Ids of policies whose content did not parse (loaded as deny-all). */
  invalid: string[];
}

/** Revision and live policies read in one statement, hence from one consistent snapshot. */
export async function loadSnapshot(db: pg.Pool | pg.Client): Promise<PolicySnapshot> {
  const res = await db.query(
    `SELECT r.revision::text AS revision, p.id AS pid, p.*
       FROM policy.revision r
       LEFT JOIN policy.policies p ON p.deleted_at IS NULL`,
  );
  let revision = 0;
  const policies: StoredPolicy[] = [];
  const invalid: string[] = [];
  for (const raw of res.rows as Array<Record<string, unknown>>) {
    revision = Number(raw.revision);
    if (raw.pid === null) continue;
    const row = PolicyRowSchema.parse(raw);
    const { policy, valid } = toStored(row);
    policies.push(policy);
    if (!valid) invalid.push(policy.id);
  }
  if (res.rows.length === 0) throw new Error('policy.revision is empty: run the migration');
  return { revision, policies, invalid };
}

export async function readRevision(db: pg.Pool | pg.Client): Promise<number> {
  const res = await db.query('SELECT revision::text AS revision FROM policy.revision');
  const row = res.rows[0] as { revision?: string } | undefined;
  if (row?.revision === undefined) throw new Error('policy.revision is empty: run the migration');
  return Number(row.revision);
}

export const POLICIES_CHANGED_CHANNEL = 'policies:changed';
