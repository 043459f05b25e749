import { SCOPE_RANK, type PolicyContent, type PolicyDomainName, type PolicyRule, type PolicyScope, type StoredPolicy } from './content.ts';

// Scope-hierarchy validation: a lower-scope policy may not allow what a higher scope denies.
// "Could overlap" is decided per rule on the declared conditions only. Org/team membership is
// not known at write time, so every higher-scope deny of the tenant (and of all tenants) counts:
// conservative on purpose, a false "violation" is a 400 the author can resolve, a missed one
// is a policy that silently does not do what it says.

export const RULE_DIMENSIONS = ['actions', 'classifications', 'channels', 'target_systems', 'users'] as const;

/** Two patterns (literal, `*`, `prefix*`; case-insensitive) can match a common value. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === '*' || y === '*') return true;
  const xp = x.endsWith('*');
  const yp = y.endsWith('*');
  if (xp && yp) {
    const xs = x.slice(0, -1);
    const ys = y.slice(0, -1);
    return xs.startsWith(ys) || ys.startsWith(xs);
  }
  if (xp) return y.startsWith(x.slice(0, -1));
  if (yp) return x.startsWith(y.slice(0, -1));
  return x === y;
}

function setsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  // An absent condition matches everything.
  if (a === undefined || b === undefined) return true;
  return a.some((x) => b.some((y) => patternsOverlap(x, y)));
}

/** Some input can match both rules. */
export function rulesOverlap(a: PolicyRule, b: PolicyRule): boolean {
  for (const d of RULE_DIMENSIONS) if (!setsOverlap(a[d], b[d])) return false;
  if (a.additional && b.additional) {
    for (const [k, v] of Object.entries(a.additional)) {
      if (!setsOverlap(v, b.additional[k])) return false;
    }
  }
  return true;
}

export interface PolicyCandidate {
  id?: string;
  scope: PolicyScope;
  scopeId: string;
  domain: PolicyDomainName;
  name: string;
  content: PolicyContent;
}

export interface HierarchyConflict {
  rule: number;
  ruleId?: string;
  effect: string;
  conflictsWith: {
    policyId: string;
    name: string;
    version: number;
    scope: PolicyScope;
    scopeId: string;
    rule: number;
    ruleId?: string;
    reason: string;
  };
}

function conflictsBetween(lower: PolicyContent, higher: StoredPolicy, lowerEffects: ReadonlySet<string>, higherEffects: ReadonlySet<string>): HierarchyConflict[] {
  const out: HierarchyConflict[] = [];
  lower.rules.forEach((lr, li) => {
    if (!lowerEffects.has(lr.effect)) return;
    higher.content.rules.forEach((hr, hi) => {
      if (!higherEffects.has(hr.effect) || !rulesOverlap(lr, hr)) return;
      out.push({
        rule: li,
        ...(lr.id !== undefined ? { ruleId: lr.id } : {}),
        effect: lr.effect,
        conflictsWith: {
          policyId: higher.id,
          name: higher.name,
          version: higher.version,
          scope: higher.scope,
          scopeId: higher.scopeId,
          rule: hi,
          ...(hr.id !== undefined ? { ruleId: hr.id } : {}),
          reason: hr.reason,
        },
      });
    });
  });
  return out;
}

const ALLOWING = new Set(['allow', 'require_approval']);
const DENYING = new Set(['deny']);

/**
 * Allow / require_approval rules of the candidate that overlap a deny rule of a strictly higher
 * scope in the same domain. `existing` = live policies of the tenant and of all tenants.
 */
export function hierarchyViolations(candidate: PolicyCandidate, existing: readonly StoredPolicy[]): HierarchyConflict[] {
  const rank = SCOPE_RANK[candidate.scope];
  const out: HierarchyConflict[] = [];
  for (const p of existing) {
    if (p.id === candidate.id || p.domain !== candidate.domain || SCOPE_RANK[p.scope] >= rank) continue;
    out.push(...conflictsBetween(candidate.content, p, ALLOWING, DENYING));
  }
  return out;
}

/**
 * The reverse, as warnings: lower-scope allow rules the candidate's deny rules override. Allowed
 * (a higher scope may always restrict), but worth telling the author.
 */
export function shadowedRules(candidate: PolicyCandidate, existing: readonly StoredPolicy[]): Array<{ policyId: string; name: string; scope: PolicyScope; rule: number; deniedBy: number }> {
  const rank = SCOPE_RANK[candidate.scope];
  const out: Array<{ policyId: string; name: string; scope: PolicyScope; rule: number; deniedBy: number }> = [];
  const self: StoredPolicy = {
    id: candidate.id ?? '(new)',
    tenantId: '',
    scope: candidate.scope,
    scopeId: candidate.scopeId,
    domain: candidate.domain,
    name: candidate.name,
    version: 0,
    content: candidate.content,
  };
  for (const p of existing) {
    if (p.id === candidate.id || p.domain !== candidate.domain || SCOPE_RANK[p.scope] <= rank) continue;
    for (const c of conflictsBetween(p.content, self, ALLOWING, DENYING)) {
      out.push({ policyId: p.id, name: p.name, scope: p.scope, rule: c.rule, deniedBy: c.conflictsWith.rule });
    }
  }
  return out;
}
