import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { type Logger, loggablePath } from '../logger.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Told of each finished request with its duration (the metrics: server/telemetry/metrics.ts). */
export interface RequestObserver {
  request(ctx: Context, seconds: number): void;
}

/**
 * One log line per request with its id, method, path (never the query string: it can carry codes
 * and tokens), status and duration. A well-formed X-Request-Id from a proxy is kept, else one is made.
 * The observer, when there is one, is given the same duration: one clock and one middleware for both.
 */
export function requestLog(logger: Logger, observer?: RequestObserver): Middleware {
  // Every field of a request line is set below from values that cannot hold a secret (the path is made
  // loggable here), so these lines skip the redaction pass and the formatter other lines go through:
  // on a token request they were a measurable share of the work (README, "Where the time goes").
  const lines = logger.child({}, { redact: [], formatters: { log: (o: object) => o } });
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
      observer?.request(ctx, ms / 1000);
      const status = ctx.status;
      const line = { reqId: requestId, method: ctx.method, path: loggablePath(ctx.path), status, ms: Math.round(ms * 10) / 10, ip: ctx.ip };
      if (status >= 500) lines.warn(line, 'request');
      else lines.info(line, 'request');
    }
  };
}
