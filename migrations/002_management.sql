-- Credential management: roles, API keys, the audit log, and client lifecycle fields.

-- When true, a user's token for this API carries only the scopes the user's roles allow at the moment
-- the token is issued (and the Management API re-checks roles on every call). The Management API has it;
-- for other APIs it is the operator's choice.
ALTER TABLE apis ADD COLUMN enforce_roles boolean NOT NULL DEFAULT false;
-- Built in (the Management API): not editable or deletable through the API.
ALTER TABLE apis ADD COLUMN builtin boolean NOT NULL DEFAULT false;

ALTER TABLE clients ADD COLUMN environment text NOT NULL DEFAULT 'live' CHECK (environment IN ('live', 'test'));
ALTER TABLE clients ADD COLUMN enabled boolean NOT NULL DEFAULT true;
ALTER TABLE clients ADD COLUMN expires_at timestamptz;
-- CIDR strings; empty means any address. Checked in the application so PGlite and Postgres agree.
ALTER TABLE clients ADD COLUMN ip_allowlist jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE clients ADD COLUMN last_used_at timestamptz;
ALTER TABLE clients ADD COLUMN created_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- Refresh tokens and grants are found by client when a client is deleted or suspended.
CREATE INDEX oidc_artifacts_client_idx ON oidc_artifacts ((payload->>'clientId')) WHERE model IN ('Grant', 'RefreshToken');
-- ...and by account when a user is deactivated.
CREATE INDEX oidc_artifacts_account_idx ON oidc_artifacts ((payload->>'accountId')) WHERE model IN ('Grant', 'RefreshToken', 'Session');

CREATE TABLE roles (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{1,62}$'),
  description text NOT NULL DEFAULT '',
  permissions jsonb NOT NULL DEFAULT '[]'::jsonb,
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO roles (name, description, permissions, builtin) VALUES
  ('admin', 'Everything, including users, roles and signing keys',
   '["clients:read","clients:write","apis:read","apis:write","users:read","users:write","users:delete","roles:read","roles:write","api-keys:read","api-keys:write","audit:read","keys:write"]', true),
  ('developer', 'Reads everything; creates and edits clients and their own API keys',
   '["clients:read","clients:write","apis:read","users:read","roles:read","api-keys:read","api-keys:write","audit:read"]', true),
  ('viewer', 'Reads everything, changes nothing',
   '["clients:read","apis:read","users:read","roles:read","api-keys:read","audit:read"]', true);

CREATE TABLE user_roles (
  user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_name text NOT NULL REFERENCES roles (name) ON UPDATE CASCADE ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_name)
);
CREATE INDEX user_roles_role_idx ON user_roles (role_name);

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  -- The non-secret head of the key (ak_live_ + 12 characters): how a presented key finds its row.
  prefix       text NOT NULL UNIQUE,
  key_hash     text NOT NULL,
  scopes       jsonb NOT NULL DEFAULT '[]'::jsonb,
  environment  text NOT NULL DEFAULT 'live' CHECK (environment IN ('live', 'test')),
  ip_allowlist jsonb NOT NULL DEFAULT '[]'::jsonb,
  enabled      boolean NOT NULL DEFAULT true,
  expires_at   timestamptz,
  last_used_at timestamptz,
  last_used_ip text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Listing a user's own keys.
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- Client secrets get the same non-secret lookup head as API keys (sk_live_ + 12 characters).
ALTER TABLE client_secrets ADD COLUMN prefix text;

CREATE TABLE audit_events (
  id          bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  type        text NOT NULL,
  actor_type  text NOT NULL,   -- user | api_key | client | system | anonymous
  actor_id    text,
  ip          text,
  target_type text,
  target_id   text,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb
);
-- The log is read newest first (id DESC is the cursor), filtered by type or by actor.
CREATE INDEX audit_events_type_idx ON audit_events (type, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, id DESC);

-- Append-only: rows can be added, never changed or removed.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
