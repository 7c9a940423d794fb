import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { type Logger, requestLineWriter } from '../logger.js';

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
  const write = requestLineWriter(logger);
  return async function logRequest(ctx, next) {
    // Node's own header access: Koa's get and set add checks that these two fixed names do not need.
    const incoming = ctx.req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      observer?.request(ctx, ms / 1000);
      write({ reqId: requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10, ip: ctx.ip });
    }
  };
}
