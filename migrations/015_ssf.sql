-- Shared Signals (OpenID SSF 1.0) transmitter: the security-event log and the receivers' streams.
--
-- ssf_events is the outbox: a service appends an event in the same transaction as the change that
-- causes it (a user deactivated, a client suspended, an API key revoked), so an event exists if and
-- only if its change committed. Every stream reads the one log from its own cursor (acked_through),
-- in id order. For that order to be safe, ids must become visible in the order they were given out:
-- appends take a transaction-level advisory lock first (server/store/ssf.ts), so a later id never
-- commits before an earlier one and a cursor never skips an event still in flight.
CREATE TABLE ssf_events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event_type text NOT NULL,
  -- SSF 1.0 subject identifier (format "complex" with opaque members); never a secret.
  sub_id jsonb NOT NULL,
  -- The event's own members (event_timestamp, reason_admin, credential_type, ...).
  event jsonb NOT NULL DEFAULT '{}',
  -- Verification events go to one stream only; everything else to every stream.
  stream_id uuid,
  -- Kept at least as long as the longest access token can live (3600 s) and then some, so a receiver
  -- that was away less than that catches up (server/services/ssf/events.ts RETENTION_SECONDS).
  expires_at timestamptz NOT NULL
);
-- The sweep deletes by expiry.
CREATE INDEX ssf_events_expires_at ON ssf_events (expires_at);

CREATE TABLE ssf_streams (
  id uuid PRIMARY KEY,
  -- The receiver: the client whose ssf:stream token created the stream; only it reads or changes it.
  client_id text NOT NULL,
  description text,
  delivery_method text NOT NULL CHECK (delivery_method IN ('urn:ietf:rfc:8935', 'urn:ietf:rfc:8936')),
  -- Push only: the receiver's endpoint, and the Authorization header to send there, sealed
  -- (AES-256-GCM, server/crypto/seal.ts) since it is the receiver's credential.
  endpoint_url text,
  authorization_header_sealed text,
  events_requested text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'paused', 'disabled')),
  status_reason text,
  -- Every event with an id at or below this one has been delivered (push: answered 202) or
  -- acknowledged (poll).
  acked_through bigint NOT NULL,
  last_delivered_id bigint,
  last_delivered_at timestamptz,
  -- The last time the receiver heard from us: a delivery, a heartbeat or a poll answer.
  last_contact_at timestamptz,
  -- Push: the node delivering this stream now, until lease_until; another node takes over after.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ssf_streams_client_id ON ssf_streams (client_id);

-- RFC 8936 §2.4: a poll receiver acknowledges SETs by jti, in any order. Acks above a stream's
-- cursor wait here until the cursor passes them.
CREATE TABLE ssf_acks (
  stream_id uuid NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
  event_id bigint NOT NULL,
  PRIMARY KEY (stream_id, event_id)
);

-- Wakes the delivery loops and waiting polls on every node when an event commits.
CREATE FUNCTION gatehouse_ssf_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_ssf', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER ssf_events_notify AFTER INSERT ON ssf_events FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_ssf_notify();
