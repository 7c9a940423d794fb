-- The session id (sid) by which each client knows a browser session (OpenID Connect Back-Channel
-- Logout 1.0 §2.4), keyed by client_id: oidc-provider keeps it inside the session, which lives in
-- Redis or oidc_artifacts and cannot be searched by person. Kept here, beside what /account shows,
-- so that ending a person's access, or one of their sessions, sends each client that asked for it
-- (backchannel_logout_session_required) a logout token naming the session. A sid is not a bearer
-- value: relying parties receive it in ID tokens, and it opens nothing.
ALTER TABLE user_sessions ADD COLUMN client_sids jsonb NOT NULL DEFAULT '{}';
