import { describe, expect, it } from 'vitest';
import { FaultPatchSchema, isFaultable, TokensSchema } from '../../../harness/gateway/faults.ts';

describe('fault controls', () => {
  it('accepts a partial patch within bounds', () => {
    expect(FaultPatchSchema.parse({ latencyMs: 250 })).toEqual({ latencyMs: 250 });
    expect(FaultPatchSchema.parse({ errorRate: 1, diskUsedRatio: 0.91, degraded: true, skillHash: 'abcd1234', draining: false })).toBeTruthy();
  });

  it.each([
    { latencyMs: -1 },
    { latencyMs: 60_001 },
    { latencyMs: 1.5 },
    { errorRate: 1.01 },
    { diskUsedRatio: -0.1 },
    { degraded: 'yes' },
    { skillHash: 'ab' },
    { unknown: 1 },
  ])('rejects %j', (patch) => {
    expect(FaultPatchSchema.safeParse(patch).success).toBe(false);
  });

  it('token sets need at least one long token', () => {
    expect(TokensSchema.safeParse({ gateway: [] }).success).toBe(false);
    expect(TokensSchema.safeParse({ gateway: ['short'] }).success).toBe(false);
    expect(TokensSchema.safeParse({ gateway: ['a'.repeat(16), 'b'.repeat(20)] }).success).toBe(true);
  });

  it('only work routes take faults', () => {
    for (const p of ['/tools/invoke', '/hooks/agent', '/hooks/wake', '/api/v1/policies', '/api/v1/audit/:id']) expect(isFaultable(p)).toBe(true);
    for (const p of ['/healthz', '/readyz', '/startupz', '/keda/metrics', '/metrics', '/admin/faults', '/admin/runs/lookup', '/api/v10'])
      expect(isFaultable(p)).toBe(false);
  });
});
