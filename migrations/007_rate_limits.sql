-- Counters of failed attempts (attack protection) when there is no Redis: the table layout that
-- rate-limiter-flexible's RateLimiterPostgres reads and writes (key, points, expire in epoch ms).
-- Created here rather than by the library at start, so the schema stays in migrations; expired rows
-- are deleted by the library every five minutes. Keys never hold a credential: an account is named
-- by its user id or a digest of the email typed, an address by itself.
CREATE TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
-- The sweep deletes by expiry.
CREATE INDEX rate_limits_expire ON rate_limits (expire);
