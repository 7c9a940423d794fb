import type { Context } from 'koa';

export class BadRequestError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly error = 'invalid_request';
  constructor(readonly error_description: string) {
    super(error_description);
  }
}

const LIMIT = 16 * 1024;

/**
 * Reads an application/x-www-form-urlencoded body (the login and consent forms) with a size limit.
 * Repeated fields count as malformed: a person's browser never sends two passwords.
 */
export async function readForm(ctx: Context): Promise<Map<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new BadRequestError('expected a form submission');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw Object.assign(new BadRequestError('form too large'), { status: 413 });
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
