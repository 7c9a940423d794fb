import type { Middleware } from 'koa';
import { sendHtml } from './pages.js';
import { errorPage, errorViewFor } from '../../views/error.js';
import type { Logger } from '../logger.js';

interface HttpishError {
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
  status?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

/**
 * The one place an error from our own routes becomes a response. Exposed errors (4xx, and the 503 of
 * an unreachable store) keep their status and code; anything else is logged and answered with a
 * generic 500 that says nothing of the internals. JSON for API callers, a page for browsers.
 */
export function errorBoundary(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const err = caught as HttpishError;
      const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
      const exposed = status < 500 || (status === 503 && err.expose === true);
      const body = exposed
        ? { error: err.error ?? codeFor(status), error_description: err.error_description ?? err.message ?? 'request failed', ...err.extra }
        : { error: 'server_error', error_description: 'an unexpected error occurred' };
      if (exposed && err.headers) for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
      if (!exposed) logger.error({ err: caught, reqId: ctx.state.requestId, path: ctx.path }, 'unhandled error');
      else if (status === 503) logger.warn({ reqId: ctx.state.requestId, path: ctx.path, error: body.error_description }, 'dependency unavailable');
      if (status === 503) ctx.set('Retry-After', '5');
      if (ctx.accepts('json', 'html') === 'html') {
        sendHtml(ctx, errorPage(errorViewFor(body)), status);
      } else {
        ctx.status = status;
        ctx.set('Cache-Control', 'no-store');
        ctx.body = body;
      }
    }
  };
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
