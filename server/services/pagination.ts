import { z } from 'zod';
import { invalidRequest } from './errors.js';
import { PAGE_SIZE } from './limits.js';

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

export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<K extends Record<string, string | number>>(cursor: unknown, fields: (keyof K)[]): K | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (typeof cursor !== 'string') throw invalidRequest('cursor must be a string', 'cursor');
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as K;
    if (typeof key !== 'object' || key === null || !fields.every((f) => f in key)) throw new Error('shape');
    return key;
  } catch {
    throw invalidRequest('cursor is not one this server issued', 'cursor');
  }
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
export function pageOf<R, T>(rows: R[], limit: number, toItem: (r: R) => T, keyOf: (r: R) => Record<string, string | number>): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(toItem), next_cursor: more ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
