-- Change notifications for the per-node caches (server/store/cache.ts, server/db/changes.ts).
--
-- Every node keeps clients, APIs, users, roles, API keys and signing keys in memory so that a token
-- request needs no database round trip. Any change to those rows, by any writer (the Management API,
-- the console, the CLI, the seed file, a migration, or an operator with psql), sends
-- NOTIFY gatehouse_changes '<table>:<key>' from a trigger. NOTIFY is transactional: it is delivered
-- when the transaction commits, and never if it rolls back, so a node can never hear of a change
-- that did not happen. A trigger rather than a call in application code, so no writer can forget it.
--
-- Columns that only record use (last_used_at, written at most once a minute per credential) are
-- named as trigger arguments and ignored: a change only there invalidates nothing.

CREATE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
  -- Identical notifications in one transaction are folded into one by Postgres.
  IF old_row IS NOT NULL THEN
    PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || (old_row ->> key_column));
  END IF;
  IF new_row IS NOT NULL AND (old_row IS NULL OR new_row ->> key_column IS DISTINCT FROM old_row ->> key_column) THEN
    PERFORM pg_notify('gatehouse_changes', TG_TABLE_NAME || ':' || (new_row ->> key_column));
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER clients_notify AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('client_id', 'last_used_at');
CREATE TRIGGER client_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON client_secrets
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('client_id', 'last_used_at');
CREATE TRIGGER apis_notify AFTER INSERT OR UPDATE OR DELETE ON apis
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('identifier');
CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('id');
CREATE TRIGGER roles_notify AFTER INSERT OR UPDATE OR DELETE ON roles
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('name');
CREATE TRIGGER user_roles_notify AFTER INSERT OR UPDATE OR DELETE ON user_roles
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('user_id');
-- The key's address of last use stays a change: "used from a new address" is audited against it.
CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('prefix', 'last_used_at');
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_change('kid');
