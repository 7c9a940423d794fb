-- Email verification, password reset and verification links, and the sessions a person sees on /account.

-- OIDC Core §5.1 email_verified: true once the person has followed a verification link sent to
-- this address; an email change sets it back to false (server/store/users.ts).
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- Single-use links sent by email (or handed over by an administrator). Only the SHA-256 digest of
-- the link's 256-bit token is kept: a dump of this table holds nothing that can be followed.
CREATE TABLE account_links (
  token_hash text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
  -- The address a verification link was sent to: following it verifies only that address.
  email      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
-- A completed reset retires the person's other open links; old rows are swept by expiry.
CREATE INDEX account_links_user_idx ON account_links (user_id, purpose);
CREATE INDEX account_links_expires_idx ON account_links (expires_at);

-- The browser sessions of each person as /account lists them. The session itself lives with the
-- other oidc-provider artifacts (Redis, or oidc_artifacts); this row holds only what a person
-- recognises a session by, keyed by the session's uid (a reference, not the cookie's value).
CREATE TABLE user_sessions (
  session_uid  text PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_agent   text NOT NULL DEFAULT '',
  ip           text,
  signed_in_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
-- /account lists a person's sessions; endUserAccess forgets them all.
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);
