import type { Context } from 'koa';

/** A malformed request: 400 (405 wrong method, 413 too large) with RFC 6749 §5.2's invalid_request. */
export class BadRequestError extends Error {
  readonly expose = true;
  readonly error = 'invalid_request';
  constructor(
    readonly error_description: string,
    readonly status: 400 | 405 | 413 = 400,
  ) {
    super(error_description);
  }
}

const LIMIT = 16 * 1024;

/** The Content-Length a request declares, 0 if none (Koa's request.length wraps past 2^32). */
export function declaredLength(ctx: Context): number {
  const n = Number(ctx.get('content-length') || 0);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Reads an application/x-www-form-urlencoded body (the login and consent forms) with a size limit.
 * Repeated fields count as malformed: a person's browser never sends two passwords.
 */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new BadRequestError('expected a form submission');
  // A declared length over the limit is refused before reading; a chunked body is counted below.
  if (declaredLength(ctx) > LIMIT) throw new BadRequestError('form too large', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  // destroyOnReturn: false, or stopping early would destroy the socket the 413 has to go out on.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new BadRequestError('form too large', 413);
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const form = new Map<string, string>();
  for (const [k, v] of params) {
    if (form.has(k)) throw new BadRequestError(`field "${k}" is repeated`);
    form.set(k, v);
  }
  return form;
}
