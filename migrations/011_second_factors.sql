-- Second factors (issue 13): TOTP, recovery codes and passkeys, and the role policy that requires
-- two factors. New installations require them for the built-in admin role; that default is set at
-- start-up on a new database (server/services/two-factor-policy.ts), not here, so that an existing
-- installation's administrators are not asked to enrol by an upgrade.

ALTER TABLE roles ADD COLUMN require_two_factors boolean NOT NULL DEFAULT false;

-- One TOTP authenticator per person (RFC 6238). The secret is sealed (AES-256-GCM, bound to the user
-- id) like the private signing keys. confirmed_at is null while an enrolment waits for its first code.
-- last_step is the time step of the last code accepted: a code is refused unless its step is later,
-- so a code used once cannot be used again (RFC 6238 §5.2).
CREATE TABLE user_totp (
  user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_sealed text NOT NULL,
  confirmed_at  timestamptz,
  last_step     bigint,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes, stored as SHA-256 digests of 80 random bits each (like token ids:
-- high-entropy values need no slow hash). used_at marks a spent one.
CREATE TABLE recovery_codes (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);

-- WebAuthn credentials (passkeys). credential_id is found at every passkey sign-in (unique index);
-- the user's list is found by user_id.
CREATE TABLE passkeys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id text NOT NULL UNIQUE,
  public_key    text NOT NULL,
  counter       bigint NOT NULL DEFAULT 0,
  transports    jsonb NOT NULL DEFAULT '[]'::jsonb,
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up     boolean NOT NULL DEFAULT false,
  name          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);
