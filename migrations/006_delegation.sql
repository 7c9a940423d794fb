-- Issue 8: the delegation rule, owned clients, introspection only for a token's own API.

-- clients:admin lets administrators change, rotate, suspend and delete clients that others created
-- (clients:write covers the clients you created). The built-in admin role holds every Management API
-- permission, so it gains the new one; developer and viewer do not.
UPDATE roles SET permissions = permissions || '["clients:admin"]'::jsonb, updated_at = now()
  WHERE name = 'admin' AND builtin AND NOT permissions ? 'clients:admin';

-- The confidential clients that act as this API's resource servers: only they may introspect tokens
-- and API keys meant for it (RFC 7662 §4). A list of client_ids, checked against clients when written.
ALTER TABLE apis ADD COLUMN resource_servers jsonb NOT NULL DEFAULT '[]'::jsonb;
