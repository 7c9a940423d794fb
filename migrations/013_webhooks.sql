-- Issue 14: signed webhooks for audit events, delivered at least once from an outbox.
--
-- webhooks:read and webhooks:write are Management API permissions. The built-in admin role holds
-- every one of them, so it gains both; developer and viewer read everything, so they gain
-- webhooks:read. Only admin may register endpoints: one receives the audit log.
UPDATE roles SET permissions = permissions || '["webhooks:read","webhooks:write"]'::jsonb, updated_at = now()
  WHERE name = 'admin' AND builtin AND NOT permissions ? 'webhooks:write';
UPDATE roles SET permissions = permissions || '["webhooks:read"]'::jsonb, updated_at = now()
  WHERE name IN ('developer', 'viewer') AND builtin AND NOT permissions ? 'webhooks:read';

CREATE TABLE webhook_endpoints (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url             text NOT NULL,
  description     text NOT NULL DEFAULT '',
  -- Exact audit event types (client.created), prefixes ending in .* (client.*), or * for all.
  event_types     text[] NOT NULL,
  enabled         boolean NOT NULL DEFAULT true,
  -- Why it was disabled: 'failing' (the dispatcher gave up on it) or 'manual'; null while enabled.
  disabled_reason text CHECK (disabled_reason IN ('failing', 'manual')),
  disabled_at     timestamptz,
  -- The signing secret (whsec_…), sealed with KEY_ENCRYPTION_SECRET and bound to this row's id
  -- (server/crypto/seal.ts). After a rotation the previous one signs too, until previous_expires_at.
  secret_sealed   text NOT NULL,
  previous_secret_sealed text,
  previous_expires_at    timestamptz,
  -- Set at the first failed attempt after a success, cleared by the next success: an endpoint whose
  -- delivery is given up while this is set has failed for the whole retry schedule, and is disabled.
  failing_since   timestamptz,
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Does an event type match a subscription's patterns? One definition, used by the fan-out below.
CREATE FUNCTION event_type_matches(patterns text[], event_type text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT EXISTS (
    SELECT 1 FROM unnest(patterns) AS p
    WHERE p = event_type OR p = '*'
       OR (right(p, 2) = '.*' AND starts_with(event_type, left(p, -1)))
  )
$$;

-- Who wants audit events: one row per (consumer, subscriber) with its patterns. Webhook endpoints
-- are the only consumer today; another (a Shared Signals stream, say) adds its rows with a UNION ALL
-- in a migration of its own and claims its outbox rows by consumer (server/store/outbox.ts).
CREATE VIEW outbox_subscriptions AS
  SELECT 'webhook'::text AS consumer, id AS subscriber, event_types AS patterns
  FROM webhook_endpoints WHERE enabled;

-- The outbox: one row per event and subscriber, inserted in the same statement as the audit event
-- (server/store/audit.ts), so the event and its deliveries commit or roll back together.
-- next_attempt_at is also the lease: a node claiming a row moves it into the future by the lease
-- length and names itself in lease_id, so no other node takes the row until the lease runs out,
-- and a node that dies mid-delivery loses nothing: the row is due again when its lease ends.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  consumer        text NOT NULL,
  subscriber      uuid NOT NULL,
  -- No foreign key: audit_events never loses a row (migrations 002, 003), and a reference would
  -- make Postgres refuse TRUNCATE for it before the append-only trigger could say why.
  audit_event_id  bigint NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_id        uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
-- Claims: the due rows of one consumer, oldest due first. Only pending rows are in the index, so it
-- stays as small as the backlog however long the history grows.
CREATE INDEX outbox_due_idx ON outbox (consumer, next_attempt_at) WHERE state = 'pending';
-- Finished rows are forgotten after 30 days (server/services/webhook-dispatcher.ts).
CREATE INDEX outbox_finished_idx ON outbox (finished_at) WHERE state <> 'pending';
-- A subscriber's deliveries, newest first (GET /webhooks/{id}/deliveries), and its removal.
CREATE INDEX outbox_subscriber_idx ON outbox (consumer, subscriber, id DESC);

-- Every attempt at a delivery and how it ended: the HTTP status, or the error when there was none.
CREATE TABLE outbox_attempts (
  id          bigserial PRIMARY KEY,
  outbox_id   bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  started_at  timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  status      integer,
  error       text
);
CREATE INDEX outbox_attempts_outbox_idx ON outbox_attempts (outbox_id, attempt);

-- Wake the dispatchers of every node at commit (server/store/cache.ts hands unknown tables on):
-- a new row is due at once. Identical notifications of one transaction fold into one.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_changes', 'outbox:' || NEW.consumer);
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_notify();
-- An endpoint enabled again has deliveries waiting: the same wake-up.
CREATE TRIGGER webhook_endpoints_notify AFTER INSERT OR UPDATE OR DELETE ON webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('id', 'failing_since');
