/**
 * Storage-level errors. They carry no HTTP meaning here; the server maps StorageUnavailableError to
 * 503 and AlreadyConsumedError to invalid_grant in one place each.
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
