import { z } from 'zod';
import { invalidRequest } from './errors.js';
import { isStorableInstant, parseIsoInstant } from './instant.js';
import { PAGE_SIZE } from './limits.js';
import { isUuid } from '../store/ids.js';

/**
 * Cursor pagination for every list: the cursor is opaque to callers (base64url JSON of the last
 * row's sort key), so lists stay stable while rows are added, unlike offsets.
 */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** The shape of every list response, around the schema of one item. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    data: z.array(item),
    next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });

/**
 * Query parameters arrive as string | string[]: a repeated one is a client error, not an array.
 * Their values are checked where they are used (parseLimit, decodeCursor), which name the field.
 */
export const queryValue = z.string({ error: 'must be given once' });

/** The query parameters of every list. */
export const pageQuery = z.object({
  cursor: queryValue.optional().meta({ description: 'The next_cursor of the previous page.' }),
  limit: queryValue
    .optional()
    .meta({ description: `Page size, 1-${PAGE_SIZE.max} (default ${PAGE_SIZE.default}).`, examples: ['50'] }),
});

export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What each field of a list's cursor holds. A cursor comes back from the caller, so it may be forged:
 * every field is checked against its kind before it reaches a query, where a wrong type or a value
 * the column cannot take (`{"c":1}`, a uuid that is not one, year 0) would fail the query as a 500.
 */
export type CursorField = 'text' | 'timestamp' | 'uuid' | 'bigint';


const FIELD_CHECKS: Record<CursorField, (v: string) => boolean> = {
  // Every sort key we page on (email, client_id, API identifier, kid) is far shorter.
  text: (v) => v.length <= 2048 && !v.includes('\0') && v.isWellFormed(),
  timestamp: (v) => isStorableInstant(parseIsoInstant(v)),
  uuid: (v) => isUuid(v),
  // A bigserial: positive and within int8.
  bigint: (v) => /^\d{1,18}$/.test(v),
};

/**
 * The cursor's key, every field of `shape` present as a string of its kind (and no other field), or
 * undefined when there is no cursor; anything else is a 400 naming `cursor`.
 */
export function decodeCursor<S extends Record<string, CursorField>>(cursor: unknown, shape: S): { [K in keyof S]: string } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (typeof cursor !== 'string') throw invalidRequest('cursor must be a string', 'cursor');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fields = Object.entries(shape);
  const ok =
    typeof key === 'object' && key !== null && !Array.isArray(key) &&
    Object.keys(key).length === fields.length &&
    fields.every(([name, kind]) => {
      const value = (key as Record<string, unknown>)[name];
      return typeof value === 'string' && FIELD_CHECKS[kind](value);
    });
  if (!ok) throw invalidRequest('cursor is not one this server issued', 'cursor');
  return key as { [K in keyof S]: string };
}

export function parseLimit(value: unknown, fallback: number = PAGE_SIZE.default, max: number = PAGE_SIZE.max): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1 || n > max) {
    throw invalidRequest(`limit must be a whole number from 1 to ${max}`, 'limit');
  }
  return n;
}

/** Fetch limit + 1 rows; this trims the extra one and makes the cursor from the last row kept. */
export function pageOf<R, T>(rows: R[], limit: number, toItem: (r: R) => T, keyOf: (r: R) => Record<string, string>): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(toItem), next_cursor: more ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
