-- Gatehouse initial schema. Landed migrations are never edited; add a new numbered file instead.

-- Resource servers (RFC 8707 "resource" values) and the scopes they define.
CREATE TABLE apis (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  identifier       text NOT NULL UNIQUE,
  name             text NOT NULL,
  -- [{ "name": "orders:read", "description": "Read orders" }]
  scopes           jsonb NOT NULL DEFAULT '[]'::jsonb,
  access_token_ttl integer NOT NULL DEFAULT 900 CHECK (access_token_ttl BETWEEN 60 AND 86400),
  signing_alg      text NOT NULL DEFAULT 'RS256',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- OAuth clients. metadata holds RFC 7591 client metadata; secrets live in client_secrets.
CREATE TABLE clients (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id   text NOT NULL UNIQUE,
  metadata    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A client may hold several secrets at once so that rotation needs no downtime. Only a SHA-256
-- digest is kept: secrets are 256-bit random values, so a slow hash adds nothing but latency.
CREATE TABLE client_secrets (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id    text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  secret_hash  text NOT NULL,
  -- First characters of the secret, not enough to use it; lets an operator tell secrets apart.
  hint         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz
);
-- Token requests look up a client's live secrets on every call.
CREATE INDEX client_secrets_client_id_idx ON client_secrets (client_id);

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  name          text NOT NULL,
  password_hash text NOT NULL,  -- argon2id PHC string
  active        boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Logins match email case-insensitively; the unique index keeps one account per address.
CREATE UNIQUE INDEX users_email_lower_idx ON users (lower(email));

-- Consent remembered per user and client, so a new session does not ask again for the same scopes.
CREATE TABLE consents (
  account_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id   text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  oidc_scope  text NOT NULL DEFAULT '',
  oidc_claims jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- { "<resource identifier>": "scope scope" }
  resources   jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, client_id)
);

-- oidc-provider artifacts kept in Postgres: grants and refresh tokens always; with no Redis, the
-- short-lived ones too. Bearer values are stored as SHA-256 digests (id), never as given.
CREATE TABLE oidc_artifacts (
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
-- revokeByGrantId deletes every artifact of a grant across models.
CREATE INDEX oidc_artifacts_grant_id_idx ON oidc_artifacts (grant_id) WHERE grant_id IS NOT NULL;
-- Session.findByUid.
CREATE INDEX oidc_artifacts_uid_idx ON oidc_artifacts (model, uid) WHERE uid IS NOT NULL;
-- The periodic sweep of expired rows.
CREATE INDEX oidc_artifacts_expires_at_idx ON oidc_artifacts (expires_at) WHERE expires_at IS NOT NULL;

-- Signing keys. The private JWK is sealed with AES-256-GCM under KEY_ENCRYPTION_SECRET.
CREATE TABLE signing_keys (
  kid                text PRIMARY KEY,
  alg                text NOT NULL,
  public_jwk         jsonb NOT NULL,
  private_jwk_sealed text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  -- When it starts signing. Published in the JWKS from created_at, so verifiers know it first.
  activates_at       timestamptz NOT NULL DEFAULT now(),
  -- When it stops signing; it stays published until every token it signed has expired.
  retired_at         timestamptz
);
