import { describe, expect, it } from 'vitest';
import { EvalInputSchema, PolicyContentSchema, type PolicyContent, type PolicyScope, type StoredPolicy } from '../../../harness/policy/content.ts';
import { compilePatterns, matches, PolicySet } from '../../../harness/policy/evaluate.ts';

let seq = 0;
function pol(scope: PolicyScope, scopeId: string, content: unknown, over: Partial<StoredPolicy> = {}): StoredPolicy {
  seq++;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    tenantId: 'acme',
    scope,
    scopeId,
    domain: 'actions',
    name: `p${seq}`,
    version: 1,
    content: PolicyContentSchema.parse(content) as PolicyContent,
    ...over,
  };
}

const baseline = pol('enterprise', '*', { rules: [], default: 'allow' }, { tenantId: '*', name: 'baseline' });

function input(over: Record<string, unknown> = {}) {
  return EvalInputSchema.parse({ tenant_id: 'acme', user_id: 'alice', action: 'email_read', data_classification: 'internal', channel: 'http', target_system: 'gmail', ...over });
}

describe('patterns', () => {
  it('match literals case-insensitively, * and prefix*', () => {
    const m = compilePatterns(['Email_Read', 'gdrive_*']);
    expect(matches(m, 'email_read')).toBe(true);
    expect(matches(m, 'EMAIL_READ')).toBe(true);
    expect(matches(m, 'gdrive_search')).toBe(true);
    expect(matches(m, 'gdrive')).toBe(false);
    expect(matches(m, 'email_search')).toBe(false);
    expect(matches(compilePatterns(['*']), 'anything')).toBe(true);
  });

  it('content rejects a * in the middle of a pattern, unknown keys and empty condition lists', () => {
    expect(PolicyContentSchema.safeParse({ rules: [{ effect: 'deny', actions: ['a*b'], reason: 'x' }] }).success).toBe(false);
    expect(PolicyContentSchema.safeParse({ rules: [{ effect: 'deny', action: ['a'], reason: 'x' }] }).success).toBe(false);
    expect(PolicyContentSchema.safeParse({ rules: [{ effect: 'deny', actions: [], reason: 'x' }] }).success).toBe(false);
    expect(PolicyContentSchema.safeParse({ rules: [{ effect: 'maybe', reason: 'x' }] }).success).toBe(false);
    expect(PolicyContentSchema.safeParse({ rules: [{ effect: 'allow', reason: '' }] }).success).toBe(false);
    expect(PolicyContentSchema.parse({})).toEqual({ rules: [] });
  });
});

describe('decisions', () => {
  it('the seeded baseline allows ordinary calls for any tenant', () => {
    const set = new PolicySet([baseline], 1);
    expect(set.evaluate('actions', input())).toMatchObject({ allow: true, policy: 'baseline@v1' });
    expect(set.evaluate('actions', input({ tenant_id: 'someone-else' })).allow).toBe(true);
  });

  it('no applicable policy denies (fail closed)', () => {
    const set = new PolicySet([], 1);
    expect(set.evaluate('actions', input())).toEqual({ allow: false, reason: 'no applicable policy' });
    // A policy of another domain does not apply.
    expect(new PolicySet([pol('enterprise', 'acme', { default: 'allow' }, { domain: 'models' })], 1).evaluate('actions', input()).allow).toBe(false);
  });

  it('a matching deny rule beats the default allow; non-matching inputs fall through', () => {
    const deny = pol('enterprise', 'acme', { rules: [{ effect: 'deny', actions: ['gdrive_*'], classifications: ['confidential', 'restricted'], reason: 'no confidential drive' }] });
    const set = new PolicySet([baseline, deny], 2);
    expect(set.evaluate('actions', input({ action: 'gdrive_read', data_classification: 'confidential' }))).toMatchObject({
      allow: false,
      reason: 'no confidential drive',
      policy: `${deny.name}@v1`,
      scope: 'enterprise',
    });
    expect(set.evaluate('actions', input({ action: 'gdrive_read', data_classification: 'internal' })).allow).toBe(true);
    expect(set.evaluate('actions', input({ action: 'email_read', data_classification: 'confidential' })).allow).toBe(true);
  });

  it('deny at a higher scope wins over a lower-scope allow, and is the one reported', () => {
    const ent = pol('enterprise', 'acme', { rules: [{ effect: 'deny', actions: ['jira_*'], reason: 'enterprise: no jira' }] });
    const team = pol('team', 'red', { rules: [{ effect: 'deny', actions: ['jira_read'], reason: 'team: no jira' }] });
    const user = pol('user', 'alice', { rules: [{ effect: 'allow', actions: ['jira_read'], reason: 'alice may' }] });
    const set = new PolicySet([baseline, user, team, ent], 3);
    const d = set.evaluate('actions', input({ action: 'jira_read', additional: { team: 'red' } }));
    expect(d).toMatchObject({ allow: false, reason: 'enterprise: no jira', scope: 'enterprise' });
  });

  it('a lower scope may restrict further (deny) what a higher scope allows', () => {
    const user = pol('user', 'alice', { rules: [{ effect: 'deny', actions: ['email_*'], reason: 'alice: no email' }] });
    const set = new PolicySet([baseline, user], 2);
    expect(set.evaluate('actions', input())).toMatchObject({ allow: false, reason: 'alice: no email', scope: 'user' });
    expect(set.evaluate('actions', input({ user_id: 'bob' })).allow).toBe(true);
  });

  it('an explicit allow at a lower scope is an exception to a higher default deny', () => {
    const ent = pol('enterprise', 'acme', { default: 'deny' });
    const team = pol('team', 'data', { rules: [{ effect: 'allow', actions: ['gdrive_read'], reason: 'data team reads drive' }] });
    const set = new PolicySet([ent, team], 2);
    expect(set.evaluate('actions', input({ action: 'gdrive_read', additional: { team_id: 'data' } }))).toMatchObject({ allow: true, reason: 'data team reads drive' });
    expect(set.evaluate('actions', input({ action: 'gdrive_read', additional: { team_id: 'ops' } }))).toMatchObject({ allow: false, scope: 'enterprise' });
    expect(set.evaluate('actions', input({ action: 'email_read', additional: { team_id: 'data' } })).allow).toBe(false);
  });

  it('a default deny at any applicable scope beats a default allow elsewhere', () => {
    const org = pol('org', 'finance', { default: 'deny' });
    const set = new PolicySet([baseline, org], 2);
    expect(set.evaluate('actions', input({ additional: { org_unit: 'finance' } }))).toMatchObject({ allow: false, scope: 'org' });
    expect(set.evaluate('actions', input({ additional: { org_unit: 'sales' } })).allow).toBe(true);
    // OCIP envelopes carry the org unit in source_agent.
    expect(set.evaluate('actions', input({ additional: { source_agent: { org_unit: 'finance' } } })).allow).toBe(false);
  });

  it('require_approval allows with the obligation; a deny still wins over it', () => {
    const approve = pol('enterprise', 'acme', { rules: [{ effect: 'require_approval', actions: ['sessions_send'], reason: 'agent exchange needs a human' }] });
    const set = new PolicySet([baseline, approve], 2);
    expect(set.evaluate('actions', input({ action: 'sessions_send' }))).toMatchObject({ allow: true, require_approval: true, reason: 'agent exchange needs a human' });
    expect(set.evaluate('actions', input()).require_approval).toBeUndefined();
    const deny = pol('user', 'alice', { rules: [{ effect: 'deny', actions: ['sessions_*'], reason: 'alice may not' }] });
    expect(new PolicySet([baseline, approve, deny], 3).evaluate('actions', input({ action: 'sessions_send' })).allow).toBe(false);
  });

  it('conditions: channels, target systems, users and additional fields all must match', () => {
    const p = pol('enterprise', 'acme', {
      rules: [{ effect: 'deny', channels: ['ws'], target_systems: ['github'], users: ['bot-*'], additional: { model: ['gpt-*', 'claude-*'] }, reason: 'bots on ws may not use those models on github' }],
    });
    const set = new PolicySet([baseline, p], 2);
    const hit = input({ channel: 'ws', target_system: 'github', user_id: 'bot-7', additional: { model: 'claude-x' } });
    expect(set.evaluate('actions', hit).allow).toBe(false);
    expect(set.evaluate('actions', { ...hit, channel: 'http' }).allow).toBe(true);
    expect(set.evaluate('actions', { ...hit, user_id: 'alice' }).allow).toBe(true);
    expect(set.evaluate('actions', { ...hit, additional: { model: 'llama' } }).allow).toBe(true);
    expect(set.evaluate('actions', { ...hit, additional: {} }).allow).toBe(true);
    expect(set.evaluate('actions', { ...hit, additional: { model: ['llama', 'gpt-4'] } }).allow).toBe(false);
  });

  it('scoped policies apply only to their subject; scopeId * applies to every subject of the scope', () => {
    const alice = pol('user', 'alice', { rules: [{ effect: 'deny', reason: 'alice blocked' }] });
    const anyTeam = pol('team', '*', { rules: [{ effect: 'deny', actions: ['github_*'], reason: 'no github for teams' }] });
    const set = new PolicySet([baseline, alice, anyTeam], 3);
    expect(set.evaluate('actions', input()).allow).toBe(false);
    expect(set.evaluate('actions', input({ user_id: 'bob' })).allow).toBe(true);
    expect(set.evaluate('actions', input({ user_id: 'bob', action: 'github_pr_read' })).allow).toBe(false);
  });

  it("another tenant's policies never apply", () => {
    const other = pol('enterprise', 'globex', { rules: [{ effect: 'deny', reason: 'globex blocks all' }] }, { tenantId: 'globex' });
    const set = new PolicySet([baseline, other], 2);
    expect(set.evaluate('actions', input()).allow).toBe(true);
    expect(set.evaluate('actions', input({ tenant_id: 'globex' })).allow).toBe(false);
  });

  it('decides 100k inputs fast (in-memory, no I/O)', () => {
    const many = Array.from({ length: 200 }, (_, i) => pol('user', `u${i}`, { rules: [{ effect: 'deny', actions: [`tool_${i}`], reason: 'x' }] }));
    const set = new PolicySet([baseline, ...many], 2);
    const inp = input({ user_id: 'u5', action: 'email_read' });
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) set.evaluate('actions', inp);
    // Generous bound (a loaded CI box): the point is "microseconds, not a query per decision".
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
