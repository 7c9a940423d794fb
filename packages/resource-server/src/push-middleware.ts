import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PushAnswer } from './push.js';
import type { ResourceServer } from './resource-server.js';

/** A SET is a few hundred bytes; anything much larger is not one. */
const MAX_BODY = 64 * 1024;

/** The request body: as a body parser left it (a string or Buffer), or read from the stream. */
async function bodyOf(req: IncomingMessage & { body?: unknown }): Promise<string | undefined> {
  if (typeof req.body === 'string') return req.body;
  if (Buffer.isBuffer(req.body)) return req.body.toString('utf8');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function answerOf(rs: ResourceServer, req: IncomingMessage & { body?: unknown }): Promise<PushAnswer | 405 | 413> {
  if (req.method !== 'POST') return 405;
  const body = await bodyOf(req);
  if (body === undefined) return 413;
  return rs.receivePush(body, { contentType: req.headers['content-type'], authorization: req.headers.authorization });
}

function write(res: ServerResponse, answer: PushAnswer | 405 | 413): void {
  res.setHeader('cache-control', 'no-store');
  if (typeof answer === 'number') {
    res.statusCode = answer;
    if (answer === 405) res.setHeader('allow', 'POST');
    res.end();
    return;
  }
  res.statusCode = answer.status;
  if (answer.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  if (answer.status === 503) res.setHeader('Retry-After', '1');
  if (answer.body) {
    // RFC 8935 §2.3: the error is a JSON object with err and description.
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer.body));
  } else res.end();
}

const needsPush = (rs: ResourceServer) => {
  if (!rs.receivesPush) throw new TypeError('pushReceiver: configure the ResourceServer with stream.push');
};

/**
 * Plain node:http: the handler of the push endpoint (RFC 8935), e.g.
 * `if (req.url === '/ssf/events') return receive(req, res)`.
 */
export function pushReceiver(rs: ResourceServer) {
  needsPush(rs);
  return async function receiveSet(req: IncomingMessage, res: ServerResponse): Promise<void> {
    write(res, await answerOf(rs, req));
  };
}

/** Express: `app.post('/ssf/events', expressPushReceiver(rs))` (a body parser before it may leave the body as text or a Buffer). */
export function expressPushReceiver(rs: ResourceServer) {
  needsPush(rs);
  return function receiveSet(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
    answerOf(rs, req).then((answer) => write(res, answer), next);
  };
}

/** Koa: `app.use(koaPushReceiver(rs, '/ssf/events'))` answers POSTs to that path and passes the rest on. */
export function koaPushReceiver(rs: ResourceServer, path: string) {
  needsPush(rs);
  return async function receiveSet(
    ctx: { req: IncomingMessage; res: ServerResponse; path: string; request?: { body?: unknown }; respond?: boolean },
    next: () => Promise<unknown>,
  ): Promise<void> {
    if (ctx.path !== path) {
      await next();
      return;
    }
    const req = Object.assign(ctx.req, ctx.request?.body === undefined ? {} : { body: ctx.request.body });
    const answer = await answerOf(rs, req);
    ctx.respond = false;
    write(ctx.res, answer);
  };
}
