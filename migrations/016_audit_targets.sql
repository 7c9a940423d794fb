-- Issue 15: a readable audit log.
--
-- The Management API's audit list names each event's actor and target (a user's email, a
-- credential's or API key's name) and says when one was deleted. A deleted object's row is gone, so
-- what the log knows of it is its deletion event (user.deleted carries the email, api_key.revoked
-- the key's name): looked up by target, once per object on a page (server/store/audit-names.ts).
-- Without this index each lookup would read the whole log, which only grows.
CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id, id DESC);
