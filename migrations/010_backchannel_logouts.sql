-- Back-channel logout deliveries waiting to be sent (OpenID Connect Back-Channel Logout 1.0 §2.5).
--
-- A session that ends (logout, deactivation, a password change) must tell each client that asked
-- to be told (backchannel_logout_uri). The row is written in the same transaction as the change that
-- ends the session, so a logout token is sent if and only if that change commits, whoever made it
-- (the Management API, the console, the CLI, the seed file); any node then delivers it, with a
-- timeout and a bounded number of attempts, and audits the outcome (server/oidc/backchannel.ts).
-- Nothing here is a credential: the logout token is signed at delivery, and sid names a session
-- without opening it.
CREATE TABLE backchannel_logouts (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id       text NOT NULL,
  account_id      text NOT NULL,
  sid             text,
  reason          text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
-- Nodes take what is due, oldest first.
CREATE INDEX backchannel_logouts_due_idx ON backchannel_logouts (next_attempt_at);

-- Wakes the nodes at commit (NOTIFY is transactional), so a delivery starts at once rather than at
-- the next poll. On the channel every node already listens to (migration 008): a second listening
-- connection per node would be counted as another node by the cache's sync().
CREATE FUNCTION gatehouse_notify_backchannel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_changes', 'backchannel_logouts:');
  RETURN NULL;
END;
$$;
CREATE TRIGGER backchannel_logouts_notify AFTER INSERT ON backchannel_logouts
  FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_notify_backchannel();
