import {
  ALL_TENANTS,
  SCOPE_RANK,
  type Effect,
  type EvalInput,
  type EvalResult,
  type PolicyDomainName,
  type PolicyRule,
  type PolicyScope,
  type StoredPolicy,
} from './content.ts';

// Decision semantics (README.md):
// 1. Applicable policies: enterprise always; org/team/user when their scopeId is '*' or names
//    the input's org unit / team / user.
// 2. An explicit deny rule matching anywhere decides deny; when several match, the one at the
//    highest scope is reported (deny at a higher scope wins; a lower scope cannot undo it).
// 3. Otherwise matching allow / require_approval rules decide allow (with the approval
//    obligation if any require_approval matched).
// 4. Otherwise the policies' defaults: any default deny → deny (highest scope reported), else
//    any default allow → allow, else deny ("no applicable policy": fail closed).

export interface Matcher {
  any: boolean;
  exact: Set<string>;
  prefixes: string[];
}

export function compilePatterns(patterns: readonly string[]): Matcher {
  const m: Matcher = { any: false, exact: new Set(), prefixes: [] };
  for (const raw of patterns) {
    const p = raw.toLowerCase();
    if (p === '*') m.any = true;
    else if (p.endsWith('*')) m.prefixes.push(p.slice(0, -1));
    else m.exact.add(p);
  }
  return m;
}

export function matches(m: Matcher, value: string): boolean {
  if (m.any) return true;
  const v = value.toLowerCase();
  if (m.exact.has(v)) return true;
  for (const p of m.prefixes) if (v.startsWith(p)) return true;
  return false;
}

interface CompiledRule {
  index: number;
  effect: Effect;
  reason: string;
  label: string | undefined;
  actions?: Matcher;
  classifications?: Matcher;
  channels?: Matcher;
  targetSystems?: Matcher;
  users?: Matcher;
  additional?: Array<[string, Matcher]>;
}

export interface CompiledPolicy {
  policy: StoredPolicy;
  rank: number;
  label: string;
  rules: CompiledRule[];
}

function compileRule(rule: PolicyRule, index: number): CompiledRule {
  const c: CompiledRule = { index, effect: rule.effect, reason: rule.reason, label: rule.id };
  if (rule.actions) c.actions = compilePatterns(rule.actions);
  if (rule.classifications) c.classifications = compilePatterns(rule.classifications);
  if (rule.channels) c.channels = compilePatterns(rule.channels);
  if (rule.target_systems) c.targetSystems = compilePatterns(rule.target_systems);
  if (rule.users) c.users = compilePatterns(rule.users);
  if (rule.additional) c.additional = Object.entries(rule.additional).map(([k, v]) => [k, compilePatterns(v)]);
  return c;
}

export function compilePolicy(policy: StoredPolicy): CompiledPolicy {
  return {
    policy,
    rank: SCOPE_RANK[policy.scope],
    label: `${policy.name}@v${policy.version}`,
    rules: policy.content.rules.map(compileRule),
  };
}

function additionalMatches(value: unknown, m: Matcher): boolean {
  if (Array.isArray(value)) return value.some((v) => additionalMatches(v, m));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return matches(m, String(value));
  return false;
}

function ruleMatches(r: CompiledRule, input: EvalInput): boolean {
  if (r.actions && !matches(r.actions, input.action)) return false;
  if (r.classifications && !matches(r.classifications, input.data_classification)) return false;
  if (r.channels && !matches(r.channels, input.channel)) return false;
  if (r.targetSystems && !matches(r.targetSystems, input.target_system)) return false;
  if (r.users && !matches(r.users, input.user_id)) return false;
  if (r.additional) {
    for (const [key, m] of r.additional) if (!additionalMatches(input.additional[key], m)) return false;
  }
  return true;
}

function stringField(obj: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** Org unit and team of the subject, from `input.additional` (OCIP's source_agent.org_unit too). */
export function subjectOf(input: EvalInput): { org?: string; team?: string } {
  const a = input.additional;
  const agent = a.source_agent;
  const fromAgent = agent !== null && typeof agent === 'object' && !Array.isArray(agent) ? stringField(agent as Record<string, unknown>, 'org_unit') : undefined;
  const org = stringField(a, 'org_unit', 'org_id', 'org') ?? fromAgent;
  const team = stringField(a, 'team_id', 'team');
  return { ...(org !== undefined ? { org } : {}), ...(team !== undefined ? { team } : {}) };
}

export function applies(p: StoredPolicy, input: EvalInput, subject: { org?: string; team?: string }): boolean {
  if (p.scope === 'enterprise' || p.scopeId === '*') return true;
  switch (p.scope) {
    case 'org':
      return subject.org !== undefined && subject.org === p.scopeId;
    case 'team':
      return subject.team !== undefined && subject.team === p.scopeId;
    case 'user':
      return input.user_id === p.scopeId;
  }
}

interface Hit {
  compiled: CompiledPolicy;
  rule: CompiledRule;
}

function result(allow: boolean, reason: string, c: CompiledPolicy | undefined, requireApproval = false): EvalResult {
  const r: EvalResult = { allow, reason };
  if (c !== undefined) {
    r.policy = c.label;
    r.scope = c.policy.scope;
  }
  if (requireApproval) r.require_approval = true;
  return r;
}

/** Decide one input against the policies applicable to it (already filtered to tenant + domain). */
export function decide(policies: readonly CompiledPolicy[], input: EvalInput): EvalResult {
  const subject = subjectOf(input);
  let deny: Hit | undefined;
  let approval: Hit | undefined;
  let allow: Hit | undefined;
  let defaultDeny: CompiledPolicy | undefined;
  let defaultAllow: CompiledPolicy | undefined;
  for (const c of policies) {
    if (!applies(c.policy, input, subject)) continue;
    for (const rule of c.rules) {
      if (!ruleMatches(rule, input)) continue;
      if (rule.effect === 'deny') {
        if (deny === undefined || c.rank < deny.compiled.rank) deny = { compiled: c, rule };
      } else if (rule.effect === 'require_approval') {
        if (approval === undefined || c.rank < approval.compiled.rank) approval = { compiled: c, rule };
      } else if (allow === undefined || c.rank > allow.compiled.rank) {
        // The most specific allow explains the decision best.
        allow = { compiled: c, rule };
      }
    }
    const d = c.policy.content.default;
    if (d === 'deny' && (defaultDeny === undefined || c.rank < defaultDeny.rank)) defaultDeny = c;
    if (d === 'allow' && (defaultAllow === undefined || c.rank > defaultAllow.rank)) defaultAllow = c;
  }
  if (deny) return result(false, deny.rule.reason, deny.compiled);
  if (approval) return result(true, approval.rule.reason, approval.compiled, true);
  if (allow) return result(true, allow.rule.reason, allow.compiled);
  if (defaultDeny) return result(false, `no rule matched; default deny of ${defaultDeny.label}`, defaultDeny);
  if (defaultAllow) return result(true, `no rule matched; default allow of ${defaultAllow.label}`, defaultAllow);
  return result(false, 'no applicable policy', undefined);
}

/**
 * All loaded policies, indexed for evaluation without touching the database: per tenant and
 * domain, the tenant's own policies plus the all-tenant ones, sorted by scope. Immutable: a
 * reload builds a new set and swaps it in.
 */
export class PolicySet {
  readonly revision: number;
  readonly loadedAt: Date;
  readonly size: number;
  private readonly byTenant = new Map<string, Map<PolicyDomainName, CompiledPolicy[]>>();
  private readonly merged = new Map<string, CompiledPolicy[]>();

  constructor(policies: readonly StoredPolicy[], revision: number, loadedAt = new Date()) {
    this.revision = revision;
    this.loadedAt = loadedAt;
    this.size = policies.length;
    for (const p of policies) {
      let domains = this.byTenant.get(p.tenantId);
      if (domains === undefined) this.byTenant.set(p.tenantId, (domains = new Map()));
      let list = domains.get(p.domain);
      if (list === undefined) domains.set(p.domain, (list = []));
      list.push(compilePolicy(p));
    }
  }

  /** Applicable candidates for a tenant and domain (memoised; bounded by tenants × domains). */
  candidates(tenant: string, domain: PolicyDomainName): CompiledPolicy[] {
    const key = `${domain}\u0000${tenant}`;
    const hit = this.merged.get(key);
    if (hit !== undefined) return hit;
    const own = tenant === ALL_TENANTS ? [] : (this.byTenant.get(tenant)?.get(domain) ?? []);
    const all = this.byTenant.get(ALL_TENANTS)?.get(domain) ?? [];
    const list = [...all, ...own].sort((a, b) => a.rank - b.rank);
    // Bounded: past 10,000 entries, tenants without policies of their own are recomputed each
    // time, so a flood of random tenant ids cannot grow memory.
    if (own.length > 0 || this.merged.size < 10_000) this.merged.set(key, list);
    return list;
  }

  evaluate(domain: PolicyDomainName, input: EvalInput): EvalResult {
    return decide(this.candidates(input.tenant_id, domain), input);
  }

  scopes(): Record<PolicyScope, number> {
    const counts: Record<PolicyScope, number> = { enterprise: 0, org: 0, team: 0, user: 0 };
    for (const domains of this.byTenant.values()) for (const list of domains.values()) for (const c of list) counts[c.policy.scope]++;
    return counts;
  }
}
