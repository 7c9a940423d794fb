import type { Context } from 'koa';
import type { z } from 'zod';
import { ApiError, invalidRequest } from '../services/errors.js';

const LIMIT = 64 * 1024;

/** Reads a JSON request body (size-limited) and validates it; errors name the offending field. */
export async function readJson<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.infer<S>> {
  if (!ctx.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new ApiError(413, 'request_too_large', `the body is over ${LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  let raw: unknown;
  try {
    raw = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  } catch {
    throw invalidRequest('the body is not valid JSON');
  }
  return validate(schema, raw);
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join('.') || undefined;
  throw invalidRequest(field ? `${field}: ${issue.message}` : issue.message, field);
}
