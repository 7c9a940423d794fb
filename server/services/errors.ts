import { z } from 'zod';

/** Every Management API error body: what the error boundary writes for an ApiError. */
export const errorSchema = z
  .looseObject({
    error: z.string().meta({ description: 'A code: invalid_request, invalid_token, insufficient_scope, forbidden, not_found, conflict, ...' }),
    error_description: z.string().meta({ description: 'What went wrong, for people.' }),
    field: z.string().optional().meta({ description: 'The request field that failed validation (400).' }),
    scope: z.string().optional().meta({ description: 'The permission the request needs (403, RFC 6750 §3.1).' }),
    errors: z
      .array(z.object({ field: z.string().optional(), message: z.string() }))
      .optional()
      .meta({ description: 'Every problem with the request body or query (400), each with the field it is about.' }),
    holders: z
      .object({ clients: z.array(z.string()), roles: z.array(z.string()), api_keys: z.array(z.string()) })
      .optional()
      .meta({ description: 'What still holds the scopes being removed (409 from /apis), up to 20 of each.' }),
  })
  .meta({ description: 'An error. Some carry more members than these, and later versions may add others.' });

/**
 * The Management API's one error type. The error boundary (server/http/errors.ts) turns it into
 * `{ "error", "error_description" }` with its status; 401 and 403 also carry the RFC 6750 §3
 * WWW-Authenticate challenge.
 */
export class ApiError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly error: string,
    readonly error_description: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error_description);
  }
}

export const invalidToken = (description = 'the access token is missing, malformed, expired or revoked') =>
  new ApiError(401, 'invalid_token', description, {
    'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`,
  });

/** RFC 6750 §3.1: the token is fine but lacks the scope; say which one is needed. */
export const insufficientScope = (scope: string, description = `this request needs the "${scope}" permission`) =>
  new ApiError(
    403,
    'insufficient_scope',
    description,
    { 'WWW-Authenticate': `Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"` },
    { scope },
  );

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (description: string) => new ApiError(409, 'conflict', description);
export const invalidRequest = (description: string, field?: string) =>
  new ApiError(400, 'invalid_request', description, {}, field ? { field } : {});
export const forbidden = (description: string) => new ApiError(403, 'forbidden', description);
