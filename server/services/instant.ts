/**
 * Instants that callers send (a `since` filter, the timestamp inside a list cursor), parsed once
 * and kept to what both JavaScript and Postgres can hold, so that a strange date is a 400 or a
 * plain answer and never a failed query (Postgres has no year 0: `0000-01-01` was a 500).
 */

/**
 * ISO 8601 as RFC 3339 §5.6 profiles it: a date, or a date and time with an optional offset (none
 * means UTC). Postgres's own timestamptz text (`2025-01-31 12:00:00.123456+00`, which list cursors
 * carry) is the same with a space and an hour-only offset.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Real offsets run from -12:00 to +14:00; Postgres refuses those past ±15:59. */
const MAX_OFFSET_HOURS = 14;

/** A date and time that exists (not February 30, not 25:00), or undefined. */
export function parseIsoInstant(value: string): Date | undefined {
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', offset = 'Z'] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  // Day within the month, leap years included: the UTC date must round-trip (the string form, since
  // Date.UTC reads years 0-99 as 1900-1999).
  const day = new Date(`${y}-${mo}-${d}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || day.getUTCDate() !== Number(d)) return undefined;
  const ms = frac ? frac.padEnd(3, '0').slice(0, 3) : '000';
  let tz = 'Z';
  if (offset.toUpperCase() !== 'Z') {
    const oh = offset.slice(1, 3);
    const om = offset.slice(3).replace(':', '') || '00';
    if (Number(oh) > MAX_OFFSET_HOURS || Number(om) > 59) return undefined;
    tz = `${offset[0]}${oh}:${om}`;
  }
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${tz}`);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/** Nothing Gatehouse stores predates the Unix epoch or outlives year 9999 (four-digit years). */
const EARLIEST_INSTANT = new Date('1970-01-01T00:00:00.000Z');
const LATEST_INSTANT = new Date('9999-12-31T23:59:59.999Z');

/**
 * The instant moved into [EARLIEST_INSTANT, LATEST_INSTANT]: "since year 0" asks for everything,
 * which is what "since 1970" answers, and keeps the query within Postgres's range in any time zone.
 */
export function clampInstant(t: Date): Date {
  if (t < EARLIEST_INSTANT) return EARLIEST_INSTANT;
  if (t > LATEST_INSTANT) return LATEST_INSTANT;
  return t;
}

export const isStorableInstant = (t: Date | undefined): t is Date => t !== undefined && clampInstant(t) === t;
