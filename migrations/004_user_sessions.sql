-- Sessions that started before this moment are no longer valid for the user. Deactivating a user sets
-- it, so their browser sessions end at once even where sessions live in Redis (no scan needed), and a
-- later reactivation does not bring old sessions back.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;
