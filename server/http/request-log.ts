import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../logger.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * One log line per request with its id, method, path (never the query string: it can carry codes
 * and tokens), status and duration. A well-formed X-Request-Id from a proxy is kept, else one is made.
 */
export function requestLog(logger: Logger): Middleware {
  return async function logRequest(ctx, next) {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = ctx.status;
      const line = { reqId: requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(ms * 10) / 10, ip: ctx.ip };
      if (status >= 500) logger.warn(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
