-- Clients the server registers itself at every start (the admin console's sign-in client). They are
-- read-only through the Management API: changing or deleting one would lock administrators out of
-- the console until the next restart put it back.
ALTER TABLE clients ADD COLUMN builtin boolean NOT NULL DEFAULT false;
