import { describe, expect, it } from 'vitest';
import { AuditExportSchema, AuditQuerySchema, filtersOf, PageSchema } from '../../../harness/gateway/api/params.ts';
import { auditWhere } from '../../../harness/gateway/audit.ts';
import { PolicyCreateSchema, PolicyUpdateSchema } from '../../../harness/gateway/api/policies.ts';

describe('audit query parameters', () => {
  it('defaults: page 1, page_size 100, no filters', () => {
    expect(AuditQuerySchema.parse({})).toEqual({ page: 1, page_size: 100 });
  });

  it('parses every filter', () => {
    const q = AuditQuerySchema.parse({ user_id: 'alice', action_type: 'email_read', request_id: 'r-1', from: '2026-01-01', to: '2026-01-31T23:59:59.999Z', page: '3', page_size: '1000' });
    expect(q).toMatchObject({ user_id: 'alice', action_type: 'email_read', request_id: 'r-1', page: 3, page_size: 1000 });
    expect(q.from?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(q.to?.toISOString()).toBe('2026-01-31T23:59:59.999Z');
    expect(AuditQuerySchema.parse({ from: '2026-03-01T10:00:00+02:00' }).from?.toISOString()).toBe('2026-03-01T08:00:00.000Z');
  });

  it.each([
    [{ page_size: '1001' }, 'page_size'],
    [{ page_size: '0' }, 'page_size'],
    [{ page: '0' }, 'page'],
    [{ page: '-1' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page_size: 'ten' }, 'page_size'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2026-13-45' }, 'from'],
    [{ to: '2026-01-01T10:00:00' }, 'to'], // no offset: ambiguous
    [{ from: '2026-02-01', to: '2026-01-01' }, 'from'],
    [{ user_id: '' }, 'user_id'],
    [{ user_id: 'x'.repeat(257) }, 'user_id'],
    [{ user_id: ['a', 'b'] }, 'user_id'],
  ])('%j is rejected at %s', (q, field) => {
    const r = AuditQuerySchema.safeParse(q);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('export: json by default, csv on request, bounded row limit', () => {
    expect(AuditExportSchema.parse({})).toMatchObject({ format: 'json', limit: 100_000 });
    expect(AuditExportSchema.parse({ format: 'csv', limit: '5' })).toMatchObject({ format: 'csv', limit: 5 });
    expect(AuditExportSchema.safeParse({ format: 'xml' }).success).toBe(false);
    expect(AuditExportSchema.safeParse({ limit: '1000001' }).success).toBe(false);
  });

  it('pending list paging', () => {
    expect(PageSchema.parse({})).toEqual({ page: 1, page_size: 100 });
    expect(PageSchema.safeParse({ page_size: '5000' }).success).toBe(false);
  });

  it('filters become parameters, never SQL text', () => {
    const q = AuditQuerySchema.parse({ user_id: "x' OR 1=1 --", from: '2026-01-01' });
    const w = auditWhere('acme', filtersOf(q));
    expect(w.sql).toBe('tenant_id = $1 AND user_id = $2 AND "timestamp" >= $3::timestamptz');
    expect(w.params).toEqual(['acme', "x' OR 1=1 --", '2026-01-01T00:00:00.000Z']);
  });
});

describe('policy bodies', () => {
  const valid = { scope: 'team', scopeId: 'red', domain: 'actions', name: 'n', content: { rules: [{ effect: 'deny', actions: ['x'], reason: 'r' }] }, changeReason: 'why' };

  it('create: version defaults to 1; changeReason is required; unknown fields are refused', () => {
    expect(PolicyCreateSchema.parse(valid).version).toBe(1);
    expect(PolicyCreateSchema.safeParse({ ...valid, changeReason: undefined }).success).toBe(false);
    expect(PolicyCreateSchema.safeParse({ ...valid, scope: 'galaxy' }).success).toBe(false);
    expect(PolicyCreateSchema.safeParse({ ...valid, domain: 'weather' }).success).toBe(false);
    expect(PolicyCreateSchema.safeParse({ ...valid, tenantId: 'other' }).success).toBe(false);
    expect(PolicyCreateSchema.safeParse({ ...valid, content: { rules: [{ effect: 'deny' }] } }).success).toBe(false);
  });

  it('update: everything optional but the change reason', () => {
    expect(PolicyUpdateSchema.safeParse({ changeReason: 'x' }).success).toBe(true);
    expect(PolicyUpdateSchema.safeParse({ content: valid.content }).success).toBe(false);
    expect(PolicyUpdateSchema.safeParse({ changeReason: 'x', version: 0 }).success).toBe(false);
  });
});
