/**
 * The Management API's limits, in one place: the services' zod schemas enforce them, the OpenAPI
 * document shows them (it is generated from those schemas), and the console checks its forms with
 * them before sending. No imports: the console's bundle includes this file, like permissions.ts.
 */

/** Names of clients, APIs, users and API keys. */
export const NAME_MAX = 200;
/** Descriptions of roles and of an API's scopes. */
export const DESCRIPTION_MAX = 300;
/** A permission or API scope is named resource:action, e.g. orders:read. */
export const SCOPE_NAME = /^[\w.-]+:[\w.*-]+$/;
/** Custom role names: lower-case, starting with a letter. */
export const ROLE_NAME = /^[a-z][a-z0-9_-]{1,62}$/;
/** Scopes one API may define, and permissions one role may hold. */
export const MAX_SCOPES = 500;
/** Scopes one API key may carry. */
export const MAX_KEY_SCOPES = 200;
/**
 * The default of PASSWORD_MIN_LENGTH: NIST SP 800-63B §5.1.1.2 asks for at least 8 characters; 12 is
 * our default (the running server's value is GET /me's password_min_length).
 */
export const PASSWORD_MIN = 12;
/** Seconds an API's access tokens live: at least a minute, at most an hour (900 unless chosen). */
export const ACCESS_TOKEN_TTL = { min: 60, max: 3600, default: 900 } as const;
/** Page sizes of every list (?limit=). */
export const PAGE_SIZE = { default: 50, max: 200 } as const;
