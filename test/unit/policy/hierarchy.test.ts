import { describe, expect, it } from 'vitest';
import { PolicyContentSchema, type PolicyScope, type StoredPolicy } from '../../../harness/policy/content.ts';
import { hierarchyViolations, patternsOverlap, rulesOverlap, shadowedRules } from '../../../harness/policy/hierarchy.ts';

let seq = 0;
function pol(scope: PolicyScope, content: unknown, over: Partial<StoredPolicy> = {}): StoredPolicy {
  seq++;
  return { id: `p-${seq}`, tenantId: 'acme', scope, scopeId: 'x', domain: 'actions', name: `p${seq}`, version: 1, content: PolicyContentSchema.parse(content), ...over };
}
const rule = (r: Record<string, unknown>) => PolicyContentSchema.parse({ rules: [{ reason: 'r', ...r }] }).rules[0]!;

describe('overlap', () => {
  it.each([
    ['email_read', 'email_read', true],
    ['email_read', 'EMAIL_READ', true],
    ['email_read', 'email_search', false],
    ['email_*', 'email_read', true],
    ['email_read', 'email_*', true],
    ['email_*', 'em*', true],
    ['email_*', 'gdrive_*', false],
    ['*', 'anything', true],
    ['gdrive', 'gdrive_*', false],
  ] as const)('%s vs %s → %s', (a, b, want) => {
    expect(patternsOverlap(a, b)).toBe(want);
  });

  it('rules overlap only when every declared dimension can meet; absent = everything', () => {
    expect(rulesOverlap(rule({ effect: 'allow', actions: ['jira_read'] }), rule({ effect: 'deny', actions: ['jira_*'] }))).toBe(true);
    expect(rulesOverlap(rule({ effect: 'allow', actions: ['jira_read'] }), rule({ effect: 'deny' }))).toBe(true);
    expect(rulesOverlap(rule({ effect: 'allow', actions: ['jira_read'], classifications: ['public'] }), rule({ effect: 'deny', actions: ['jira_*'], classifications: ['restricted'] }))).toBe(false);
    expect(rulesOverlap(rule({ effect: 'allow', channels: ['ws'] }), rule({ effect: 'deny', channels: ['http'] }))).toBe(false);
    expect(rulesOverlap(rule({ effect: 'allow', additional: { model: ['a'] } }), rule({ effect: 'deny', additional: { model: ['b'] } }))).toBe(false);
    expect(rulesOverlap(rule({ effect: 'allow', additional: { model: ['a'] } }), rule({ effect: 'deny', additional: { region: ['eu'] } }))).toBe(true);
  });
});

describe('hierarchy validation', () => {
  const entDeny = pol('enterprise', { rules: [{ effect: 'deny', id: 'no-drive', actions: ['gdrive_*'], reason: 'drive is off limits' }] });
  const orgDeny = pol('org', { rules: [{ effect: 'deny', actions: ['github_*'], reason: 'org: no github' }] });
  const baseline = pol('enterprise', { rules: [], default: 'allow' }, { tenantId: '*' });

  it('a lower-scope allow of what a higher scope denies is a violation, with detail', () => {
    const v = hierarchyViolations(
      { scope: 'team', scopeId: 't', domain: 'actions', name: 'team-drive', content: PolicyContentSchema.parse({ rules: [{ effect: 'allow', actions: ['gdrive_read'], reason: 'need it' }] }) },
      [baseline, entDeny, orgDeny],
    );
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ rule: 0, effect: 'allow', conflictsWith: { policyId: entDeny.id, scope: 'enterprise', rule: 0, ruleId: 'no-drive', reason: 'drive is off limits' } });
  });

  it('require_approval counts as allowing', () => {
    const v = hierarchyViolations(
      { scope: 'user', scopeId: 'u', domain: 'actions', name: 'n', content: PolicyContentSchema.parse({ rules: [{ effect: 'require_approval', actions: ['github_pr_read'], reason: 'r' }] }) },
      [orgDeny],
    );
    expect(v).toHaveLength(1);
  });

  it('denies, non-overlapping allows, defaults, same or lower scopes and other domains are fine', () => {
    const candidate = (scope: PolicyScope, rules: unknown[], extra: Record<string, unknown> = {}) => ({
      scope,
      scopeId: 's',
      domain: 'actions' as const,
      name: 'c',
      content: PolicyContentSchema.parse({ rules, ...extra }),
    });
    const existing = [baseline, entDeny, orgDeny];
    expect(hierarchyViolations(candidate('team', [{ effect: 'deny', actions: ['gdrive_*'], reason: 'r' }]), existing)).toEqual([]);
    expect(hierarchyViolations(candidate('team', [{ effect: 'allow', actions: ['email_read'], reason: 'r' }]), existing)).toEqual([]);
    expect(hierarchyViolations(candidate('team', [], { default: 'allow' }), existing)).toEqual([]);
    // Same scope (org) as the github deny: not a higher scope.
    expect(hierarchyViolations(candidate('org', [{ effect: 'allow', actions: ['github_pr_read'], reason: 'r' }]), existing)).toEqual([]);
    // Enterprise is the top: nothing above it.
    expect(hierarchyViolations(candidate('enterprise', [{ effect: 'allow', actions: ['gdrive_read'], reason: 'r' }]), existing)).toEqual([]);
    const otherDomain = pol('enterprise', { rules: [{ effect: 'deny', reason: 'no models' }] }, { domain: 'models' });
    expect(hierarchyViolations(candidate('user', [{ effect: 'allow', reason: 'r' }]), [otherDomain])).toEqual([]);
  });

  it('updating a policy is not checked against its own stored version', () => {
    const self = pol('org', { rules: [{ effect: 'deny', actions: ['x'], reason: 'r' }] });
    const v = hierarchyViolations({ id: self.id, scope: 'user', scopeId: 'u', domain: 'actions', name: 'n', content: PolicyContentSchema.parse({ rules: [{ effect: 'allow', actions: ['x'], reason: 'r' }] }) }, [self]);
    expect(v).toEqual([]);
  });

  it('a new higher-scope deny reports the lower-scope allows it overrides, as warnings', () => {
    const userAllow = pol('user', { rules: [{ effect: 'allow', actions: ['jira_read'], reason: 'r' }] });
    const w = shadowedRules({ scope: 'enterprise', scopeId: 'acme', domain: 'actions', name: 'no-jira', content: PolicyContentSchema.parse({ rules: [{ effect: 'deny', actions: ['jira_*'], reason: 'r' }] }) }, [userAllow]);
    expect(w).toEqual([{ policyId: userAllow.id, name: userAllow.name, scope: 'user', rule: 0, deniedBy: 0 }]);
  });
});
