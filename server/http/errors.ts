import type { Context, Middleware } from 'koa';
import { sendHtml } from './pages.js';
import { errorPage, errorViewFor } from '../../views/error.js';
import type { Logger } from '../logger.js';

interface HttpishError {
  /** ApiError (server/management/errors.ts): e.g. the RFC 6750 §3 WWW-Authenticate challenge. */
  headers?: Record<string, string>;
  /** ApiError: extra body members, e.g. the `field` a validation error names, or the needed `scope`. */
  extra?: Record<string, unknown>;
  status?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

/** Seconds a client should wait before retrying a 503 (RFC 9110 §10.2.3). */
const RETRY_AFTER = '5';

/**
 * The one place an error from our own routes becomes a response. Exposed errors (4xx, and the 503 of
 * an unreachable store) keep their status and code; anything else is logged and answered with a
 * generic 500 that says nothing of the internals. JSON for API callers, a page for browsers.
 *
 * It also finishes responses that left the stack without a body: Koa's bare 404 for an unknown path
 * and the router's bare 405 get the same JSON or page, and every 503 (ours, or one oidc-provider
 * rendered itself) gets Retry-After.
 */
export function errorBoundary(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
      if (ctx.status >= 400 && ctx.body == null && ctx.respond !== false) {
        respond(ctx, ctx.status, { error: codeFor(ctx.status), error_description: bareDescription(ctx) });
      }
    } catch (caught) {
      const err = (caught ?? {}) as HttpishError;
      // Malformed percent-encoding (decodeURIComponent on a path or parameter) is the caller's mistake.
      const status = caught instanceof URIError ? 400 : statusOf(err);
      const exposed = status < 500 || (status === 503 && err.expose === true);
      const body = caught instanceof URIError
        ? { error: 'invalid_request', error_description: 'malformed percent-encoding in the request' }
        : exposed
          ? { error: err.error ?? codeFor(status), error_description: err.error_description ?? err.message ?? 'request failed', ...err.extra }
          : { error: 'server_error', error_description: 'an unexpected error occurred' };
      if (exposed && err.headers) for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
      if (!exposed) logger.error({ err: caught, reqId: ctx.state.requestId, path: ctx.path }, 'unhandled error');
      else if (status === 503) logger.warn({ reqId: ctx.state.requestId, path: ctx.path, error: body.error_description }, 'dependency unavailable');
      respond(ctx, status, body);
    }
    if (ctx.status === 503) ctx.set('Retry-After', RETRY_AFTER);
  };
}

function statusOf(err: HttpishError): number {
  return typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
}

function respond(ctx: Context, status: number, body: { error: string; error_description: string }) {
  if (ctx.accepts('json', 'html') === 'html') {
    sendHtml(ctx, errorPage(errorViewFor(body)), status);
  } else {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  }
}

function bareDescription(ctx: Context): string {
  if (ctx.status === 404) return 'no such endpoint';
  if (ctx.status === 405) return `${ctx.method} is not allowed here`;
  return 'request failed';
}

function codeFor(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  if (status === 413) return 'request_too_large';
  if (status === 415) return 'unsupported_media_type';
  return 'invalid_request';
}
