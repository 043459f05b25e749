-- ClawStorm reference store: audit, policy and app schemas.
--
-- Runs unchanged on PostgreSQL (15+) and on PGlite (PostgreSQL 18 in WASM). Every statement is
-- idempotent so `migrate()` may run at every start; migrate.ts wraps the whole file in one
-- transaction holding an advisory lock, so concurrent migrations on a server queue up.
-- (CREATE OR REPLACE TRIGGER needs PostgreSQL 14+.)

CREATE SCHEMA IF NOT EXISTS audit;
CREATE SCHEMA IF NOT EXISTS policy;
CREATE SCHEMA IF NOT EXISTS app;

-- ---------------------------------------------------------------------------------------------
-- audit: append-only, range-partitioned by month on "timestamp"
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS audit.audit_entries (
  id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
  "timestamp"         timestamptz NOT NULL DEFAULT now(),
  tenant_id           text        NOT NULL,
  user_id             text        NOT NULL,
  action_type         text        NOT NULL,
  action_detail       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  data_accessed       jsonb       NOT NULL DEFAULT '[]'::jsonb,
  model_used          text,
  model_tokens        integer,
  data_classification text        NOT NULL,
  policy_applied      text,
  policy_result       text        NOT NULL CHECK (policy_result IN ('allow', 'deny', 'error')),
  policy_reason       text,
  outcome             text        NOT NULL CHECK (outcome IN ('success', 'denied', 'error', 'pending')),
  request_id          text        NOT NULL,
  -- A partitioned table's unique keys must contain the partition key.
  PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp");

-- Rows outside every monthly partition (clock skew, far-future test rows) land here instead of
-- failing the insert: an audit write must never be lost to a missing partition.
CREATE TABLE IF NOT EXISTS audit.audit_entries_default PARTITION OF audit.audit_entries DEFAULT;

CREATE INDEX IF NOT EXISTS audit_entries_tenant_ts_idx ON audit.audit_entries (tenant_id, "timestamp" DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_entries_tenant_user_ts_idx ON audit.audit_entries (tenant_id, user_id, "timestamp" DESC);
CREATE INDEX IF NOT EXISTS audit_entries_tenant_action_ts_idx ON audit.audit_entries (tenant_id, action_type, "timestamp" DESC);
CREATE INDEX IF NOT EXISTS audit_entries_request_id_idx ON audit.audit_entries (request_id);

CREATE OR REPLACE FUNCTION audit.reject_mutation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit.audit_entries is append-only: % rejected', TG_OP
    USING ERRCODE = 'insufficient_privilege', HINT = 'audit entries can only be inserted';
END;
$$;

-- Row triggers on the partitioned parent are cloned onto every partition, present and future.
CREATE OR REPLACE TRIGGER audit_entries_append_only
  BEFORE UPDATE OR DELETE ON audit.audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit.reject_mutation();

-- Statement (TRUNCATE) triggers are not cloned, so each partition gets its own as it is made.
CREATE OR REPLACE TRIGGER audit_entries_no_truncate
  BEFORE TRUNCATE ON audit.audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_mutation();
CREATE OR REPLACE TRIGGER audit_entries_no_truncate
  BEFORE TRUNCATE ON audit.audit_entries_default
  FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_mutation();

-- Monthly partitions audit.audit_entries_yYYYYmMM for months [now+from_offset, now+to_offset].
-- A month whose rows already sit in the default partition is skipped (attaching it would fail
-- and moving rows out of the default would be a DELETE, which this table forbids).
CREATE OR REPLACE FUNCTION audit.ensure_partitions(from_offset integer, to_offset integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  m       integer;
  lo      timestamptz;
  hi      timestamptz;
  part    text;
  created integer := 0;
BEGIN
  FOR m IN from_offset..to_offset LOOP
    -- Month arithmetic on UTC wall time, so the session's TimeZone (and DST) cannot shift bounds.
    lo := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m)) AT TIME ZONE 'UTC';
    hi := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m + 1)) AT TIME ZONE 'UTC';
    part := format('audit_entries_y%sm%s', to_char(lo AT TIME ZONE 'UTC', 'YYYY'), to_char(lo AT TIME ZONE 'UTC', 'MM'));
    CONTINUE WHEN to_regclass(format('audit.%I', part)) IS NOT NULL;
    IF EXISTS (SELECT 1 FROM audit.audit_entries_default WHERE "timestamp" >= lo AND "timestamp" < hi) THEN
      RAISE NOTICE 'audit partition % skipped: the default partition holds rows of that month', part;
      CONTINUE;
    END IF;
    EXECUTE format('CREATE TABLE audit.%I PARTITION OF audit.audit_entries FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    EXECUTE format('CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit.%I FOR EACH STATEMENT EXECUTE FUNCTION audit.reject_mutation()', part);
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;

SELECT audit.ensure_partitions(-2, 3);

-- ---------------------------------------------------------------------------------------------
-- policy: policies held in memory by the sidecars; a revision counter tells them to reload
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS policy.policies (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- '*' = applies to every tenant (the seeded baseline).
  tenant_id     text        NOT NULL,
  scope         text        NOT NULL CHECK (scope IN ('enterprise', 'org', 'team', 'user')),
  scope_id      text        NOT NULL,
  domain        text        NOT NULL CHECK (domain IN ('actions', 'models', 'integrations', 'agent_exchange', 'features', 'data', 'audit')),
  name          text        NOT NULL,
  version       integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  content       jsonb       NOT NULL,
  change_reason text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS policies_live_name_uq
  ON policy.policies (tenant_id, scope, scope_id, domain, name) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS policies_tenant_domain_idx ON policy.policies (tenant_id, domain) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS policy.revision (
  id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
  revision   bigint      NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO policy.revision (id, revision) VALUES (true, 1) ON CONFLICT (id) DO NOTHING;

-- Any change to the policy table, through the API or by hand, bumps the revision in the same
-- transaction, so a sidecar that sees revision N also sees every change that made it N.
CREATE OR REPLACE FUNCTION policy.bump_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE policy.revision SET revision = revision + 1, changed_at = clock_timestamp() WHERE id;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER policies_bump_revision
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy.policies
  FOR EACH STATEMENT EXECUTE FUNCTION policy.bump_revision();

-- Baseline so a fresh test bed allows ordinary tool calls; tenants restrict it with their own
-- policies (deny wins over allow at every scope).
INSERT INTO policy.policies (id, tenant_id, scope, scope_id, domain, name, version, content, change_reason)
SELECT ('00000000-0000-4000-8000-00000000000' || to_hex(i))::uuid, '*', 'enterprise', '*', d, 'baseline-allow-all', 1,
       '{"rules": [], "default": "allow"}'::jsonb, 'seeded by migrate'
FROM unnest(ARRAY['actions', 'models', 'integrations', 'agent_exchange', 'features', 'data', 'audit']) WITH ORDINALITY AS t(d, i)
ON CONFLICT (id) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- app: gateway working state
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS app.briefings (
  id         uuid        PRIMARY KEY,
  tenant_id  text        NOT NULL,
  user_id    text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  payload    jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS briefings_tenant_user_idx ON app.briefings (tenant_id, user_id, created_at DESC);

CREATE TABLE IF NOT EXISTS app.auto_responses (
  id             uuid        PRIMARY KEY,
  tenant_id      text        NOT NULL,
  user_id        text        NOT NULL,
  request_id     text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  status         text        NOT NULL CHECK (status IN ('pending', 'responded', 'approved', 'rejected')),
  message        jsonb       NOT NULL,
  category       text        NOT NULL,
  confidence     double precision NOT NULL,
  risk           text        NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
  draft_response text        NOT NULL,
  reason         text,
  decided_at     timestamptz,
  decided_by     text,
  decision_note  text
);
CREATE INDEX IF NOT EXISTS auto_responses_pending_idx ON app.auto_responses (tenant_id, created_at) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS app.schema_version (
  id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
  version    integer     NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO app.schema_version (id, version) VALUES (true, 1)
ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, applied_at = now();
