-- API keys: usage per day, the addresses a key was used from, rolling with an overlap; and run-time settings.
--
-- Usage is counted in memory on each node and written in batches (server/services/api-key-usage.ts):
-- one statement every few seconds adds a node's counts to these rows, so the request path never
-- waits for a write. A node that dies loses at most the counts of its last few seconds.
CREATE TABLE api_key_usage (
  key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  -- The UTC day of the requests.
  day    date NOT NULL,
  count  bigint NOT NULL CHECK (count >= 0),
  -- Read as "this key's last 30 days", and upserted per (key, day).
  PRIMARY KEY (key_id, day)
);

-- The last few distinct addresses a key was used from, with when; a flush keeps the newest few.
CREATE TABLE api_key_addresses (
  key_id       uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  ip           text NOT NULL,
  last_seen_at timestamptz NOT NULL,
  PRIMARY KEY (key_id, ip)
);

-- Rolling a key (POST /api-keys/{id}/roll) gives it a new secret; the one it replaces keeps
-- working until previous_expires_at, so its users can switch without an outage. Only its digest is
-- kept, as for the current one.
ALTER TABLE api_keys ADD COLUMN previous_prefix text UNIQUE;
ALTER TABLE api_keys ADD COLUMN previous_key_hash text;
ALTER TABLE api_keys ADD COLUMN previous_expires_at timestamptz;

-- A key is looked up (and cached, server/store/cache.ts) by either of its prefixes, so a change to
-- the row must reach the cache under the previous one too: disabling or revoking a rolled key ends
-- its previous secret as well. A row without a previous secret has nothing more to announce.
CREATE OR REPLACE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key_column text := TG_ARGV[0];
  old_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP IN ('UPDATE', 'INSERT') THEN to_jsonb(NEW) END;
  i integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    FOR i IN 1 .. TG_NARGS - 1 LOOP
      old_row := old_row - TG_ARGV[i];
      new_row := new_row - TG_ARGV[i];
    END LOOP;
    IF old_row = new_row THEN
      RETURN NULL;
    END IF;
  END IF;
  IF old_row ->> key_column IS NOT NULL THEN
    PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || (old_row ->> key_column));
  END IF;
  IF new_row ->> key_column IS NOT NULL AND (old_row IS NULL OR new_row ->> key_column IS DISTINCT FROM old_row ->> key_column) THEN
    PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || (new_row ->> key_column));
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER api_keys_previous_notify AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('previous_prefix', 'last_used_at');

-- Settings an administrator changes at run time through the Management API (not configuration,
-- which is read once at start): one row per setting, its value as JSON.
-- key_reveal_statement: a statement people must agree to before a new API key is revealed.
CREATE TABLE settings (
  name       text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
