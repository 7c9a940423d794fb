/**
 * 429 Too Many Requests (RFC 6585 §4) with Retry-After. It carries the fields Koa, our error boundary
 * and oidc-provider's error handler read (status/statusCode, expose, the code as message), so it is
 * answered the same way wherever it is thrown: `{ "error": "too_many_requests", "error_description" }`
 * in the RFC 6749 §5.2 shape at protocol endpoints and at /api/v1.
 */
export class TooManyAttemptsError extends Error {
  override name = 'TooManyAttemptsError';
  readonly status = 429;
  readonly statusCode = 429;
  readonly expose = true;
  readonly error = 'too_many_requests';
  readonly error_description: string;
  readonly headers: Record<string, string>;
  constructor(readonly retryAfter: number, what = 'failed attempts') {
    super('too_many_requests');
    this.error_description = `too many ${what} from this address; retry after ${retryAfter} seconds`;
    this.headers = { 'Retry-After': String(retryAfter) };
  }
}
