import { invalidRequest } from './errors.js';

/**
 * Cursor pagination for every list: the cursor is opaque to callers (base64url JSON of the last
 * row's sort key), so lists stay stable while rows are added, unlike offsets.
 */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

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

export function parseLimit(value: unknown, fallback = 50, max = 200): number {
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
