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
  let text: string;
  try {
    // RFC 8259 §8.1: JSON text is UTF-8. Decoding leniently would turn bad bytes into U+FFFD silently.
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw invalidRequest('the body is not valid UTF-8');
  }
  let raw: unknown;
  try {
    raw = chunks.length ? JSON.parse(text) : {};
  } catch {
    throw invalidRequest('the body is not valid JSON');
  }
  refuseUnstorableStrings(raw);
  return validate(schema, raw);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON's \u escapes can spell what UTF-8 cannot: a lone UTF-16 surrogate ("\ud800", RFC 8259 §8.2)
 * is no character at all, and Postgres refuses it in jsonb and "\u0000" in text, so either would
 * fail a query as a 500 somewhere behind validation. Every string and every key of every body is
 * checked here, once, before any route sees it. A loop rather than recursion: 64 KiB of "[" nests
 * deeper than the call stack goes.
 */
/** Where a value sits in the body: a linked list, so deep nesting costs one step per level. */
interface Step {
  key: string;
  parent: Step | undefined;
}

function refuseUnstorableStrings(body: unknown): void {
  const pending: { value: unknown; at: Step | undefined }[] = [{ value: body, at: undefined }];
  const refuse = (at: Step | undefined, what: string): never => {
    const path: string[] = [];
    for (let step = at; step; step = step.parent) path.unshift(step.key);
    const field = path.join('.') || undefined;
    throw invalidRequest(`${field ? `${field}: ` : ''}${what}`, field);
  };
  while (pending.length) {
    const { value, at } = pending.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) refuse(at, 'malformed Unicode (a lone UTF-16 surrogate)');
      if (value.includes('\0')) refuse(at, 'NUL characters are not allowed');
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push({ value: item, at: { key: String(i), parent: at } }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (!key.isWellFormed() || key.includes('\0')) refuse(at, 'a member name has malformed Unicode or a NUL character');
        pending.push({ value: item, at: { key, parent: at } });
      }
    }
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Every problem at once (errors), so a form can show each under its field; the description and
  // field name the first, as before.
  const errors = parsed.error.issues.map((i) => ({ ...(i.path.length ? { field: i.path.join('.') } : {}), message: i.message }));
  const [first] = errors;
  throw new ApiError(400, 'invalid_request', first.field ? `${first.field}: ${first.message}` : first.message, {}, { ...(first.field ? { field: first.field } : {}), errors });
}
