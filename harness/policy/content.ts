import { z } from 'zod';

// The declarative policy content language of the reference fleet (see README.md beside this
// file). Shared by the sidecar (evaluation) and the gateway's policy API (validation).

export const POLICY_SCOPES = ['enterprise', 'org', 'team', 'user'] as const;
export type PolicyScope = (typeof POLICY_SCOPES)[number];

/** Lower rank = higher scope. Enterprise ⊃ org ⊃ team ⊃ user. */
export const SCOPE_RANK: Record<PolicyScope, number> = { enterprise: 0, org: 1, team: 2, user: 3 };

export const POLICY_DOMAIN_NAMES = ['actions', 'models', 'integrations', 'agent_exchange', 'features', 'data', 'audit'] as const;
export type PolicyDomainName = (typeof POLICY_DOMAIN_NAMES)[number];

/** Tenant id of policies that apply to every tenant (the seeded baseline). */
export const ALL_TENANTS = '*';

export const EFFECTS = ['allow', 'deny', 'require_approval'] as const;
export type Effect = (typeof EFFECTS)[number];

/** A literal (case-insensitive), `*` for anything, or `prefix*` for anything starting with prefix. */
const Pattern = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => !p.slice(0, -1).includes('*'), { message: "'*' is only allowed at the end of a pattern" });
const Patterns = z.array(Pattern).min(1).max(200);

export const PolicyRuleSchema = z
  .object({
    /** Optional label, echoed in decisions and violation reports. */
    id: z.string().min(1).max(100).optional(),
    effect: z.enum(EFFECTS),
    actions: Patterns.optional(),
    classifications: Patterns.optional(),
    channels: Patterns.optional(),
    target_systems: Patterns.optional(),
    users: Patterns.optional(),
    /** Keys of `input.additional` that must hold one of the listed values (compared as strings). */
    additional: z.record(z.string().min(1).max(100), Patterns).optional(),
    reason: z.string().min(1).max(500),
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const PolicyContentSchema = z
  .object({
    description: z.string().max(2000).optional(),
    rules: z.array(PolicyRuleSchema).max(500).default([]),
    /** What this policy says when none of its rules match; absent = no opinion. */
    default: z.enum(['allow', 'deny']).optional(),
  })
  .strict();
export type PolicyContent = z.output<typeof PolicyContentSchema>;

/** A policy as stored in `policy.policies` (camelCase). */
export interface StoredPolicy {
  id: string;
  tenantId: string;
  scope: PolicyScope;
  scopeId: string;
  domain: PolicyDomainName;
  name: string;
  version: number;
  content: PolicyContent;
}

/** The `input` document of an evaluation (OPA data API); missing fields are empty strings. */
export const EvalInputSchema = z.object({
  tenant_id: z.string().default(''),
  user_id: z.string().default(''),
  action: z.string().default(''),
  data_classification: z.string().default(''),
  channel: z.string().default(''),
  target_system: z.string().default(''),
  additional: z.record(z.string(), z.unknown()).default({}),
});
export type EvalInput = z.output<typeof EvalInputSchema>;

/** The `result` document a decision answers with (OPA data API, snake_case). */
export interface EvalResult {
  allow: boolean;
  reason: string;
  policy?: string;
  require_approval?: boolean;
  scope?: PolicyScope;
}
