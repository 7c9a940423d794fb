-- The audit log's row trigger (002) refuses UPDATE and DELETE, but TRUNCATE fires no row trigger:
-- without this, one statement could still empty the append-only log.
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
