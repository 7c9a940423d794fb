/**
 * Storage-level errors. StorageUnavailableError (503) and UnstorableValueError (400) carry the status
 * they answer with, since they can surface from deep inside oidc-provider; AlreadyConsumedError is
 * turned into invalid_grant by the adapter (server/oidc/adapter.ts).
 */

/**
 * The backing store (Postgres or Redis) could not be reached or answered with a connection error.
 *
 * It carries the fields Koa and oidc-provider read off an error (status, expose, and the error code
 * as message) so that, wherever it surfaces, the answer is 503 temporarily_unavailable (RFC 6749
 * §4.1.2.1, §5.2) rather than a 500 server_error: the request may simply be retried.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  readonly error = 'temporarily_unavailable';
  readonly error_description: string;
  constructor(readonly backend: 'postgres' | 'redis', options?: { cause?: unknown }) {
    super('temporarily_unavailable', options);
    this.error_description = `the authorization server cannot reach its ${backend === 'redis' ? 'cache' : 'database'}; retry shortly`;
  }
}

/**
 * A request value reached a query that Postgres cannot hold: text with a NUL byte (SQLSTATE 22021),
 * or a JSON payload with "\u0000" in it (22P05). Such input only comes from a caller (a %00 in a
 * client_id, a state, a login) and no stored row can contain it, so the answer is 400
 * invalid_request (RFC 6749 §5.2), never a 500. Like StorageUnavailableError it carries the fields
 * Koa and oidc-provider read off an error.
 */
export class UnstorableValueError extends Error {
  override name = 'UnstorableValueError';
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;
  readonly error = 'invalid_request';
  readonly error_description = 'the request contains a character that is not allowed (such as a NUL byte)';
  constructor(options?: { cause?: unknown }) {
    super('invalid_request', options);
  }
}

/** SQLSTATE 22021 character_not_in_repertoire, 22P05 untranslatable_character. */
const UNSTORABLE_CODES = new Set(['22021', '22P05']);

export function isUnstorableValue(err: unknown): boolean {
  return err instanceof Error && UNSTORABLE_CODES.has((err as { code?: unknown }).code as string);
}

/** A consume() lost the race: another request consumed the same artifact first. */
export class AlreadyConsumedError extends Error {
  override name = 'AlreadyConsumedError';
  constructor(readonly model: string, readonly grantId: string | undefined) {
    super(`${model} was already consumed`);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  // Postgres SQLSTATE classes 08 (connection exception) and 57P0x (operator intervention: shutdown).
  '08000', '08003', '08006', '08001', '08004', '57P01', '57P02', '57P03',
]);

const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection is closed/i,
  /stream isn't writeable/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
  /max retries per request/i,
  /command timed out/i, // ioredis commandTimeout (server/runtime.ts)
  /query read timeout/i,
  /socket closed unexpectedly/i,
];

/** True when an error means "the store is not reachable right now" rather than a bad query. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof StorageUnavailableError) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (CONNECTION_MESSAGES.some((re) => re.test(err.message))) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isConnectionError(cause);
}
