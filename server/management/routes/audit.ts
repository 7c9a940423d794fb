import type { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import { operation } from '../operation.js';
import { type ActorType, type AuditEventView, auditEventSchema } from '../../services/audit.js';
import { invalidRequest } from '../../services/errors.js';
import { decodeCursor, pageOf, pageQuery, pageSchema, parseLimit, queryValue } from '../../services/pagination.js';

interface Row {
  id: string;
  type: string;
  occurred_at: Date;
  actor_type: ActorType;
  actor_id: string | null;
  ip: string | null;
  target_type: string | null;
  target_id: string | null;
  data: Record<string, unknown>;
}

const toView = (r: Row): AuditEventView => ({
  id: r.id,
  type: r.type,
  occurred_at: new Date(r.occurred_at).toISOString(),
  actor: { type: r.actor_type, id: r.actor_id, ip: r.ip },
  target: r.target_type ? { type: r.target_type, id: r.target_id } : null,
  data: r.data,
});

/**
 * ISO 8601 as RFC 3339 §5.6 profiles it: a date, or a date and time with an optional offset
 * (none means UTC). Anything else, or a date that does not exist (February 30), is refused.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

export function parseIsoInstant(value: string): Date | undefined {
  const m = ISO_8601.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', offset = 'Z'] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  // Day within the month, leap years included: the UTC date must round-trip.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCDate() !== Number(d)) return undefined;
  const ms = frac ? frac.padEnd(3, '0').slice(0, 3) : '000';
  const tz = offset.toUpperCase() === 'Z' ? 'Z' : offset.length === 5 ? `${offset.slice(0, 3)}:${offset.slice(3)}` : offset;
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${tz}`);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/** An empty filter (?type=) filters nothing. */
const given = (value: string | undefined) => (value === '' ? undefined : value);

const auditQuery = pageQuery.extend({
  type: queryValue.optional().meta({ description: 'An event type (client.created), or a prefix ending in .* (client.*).' }),
  actor: queryValue.optional().meta({ description: 'An actor id: user id, API key id or client_id.' }),
  since: queryValue.optional().meta({ description: 'ISO 8601 date or date-time; events at or after it.', examples: ['2025-01-31', '2025-01-31T12:00:00Z'] }),
});

/**
 * GET /audit-events: the append-only log, newest first. Filters: `type` (exact, or a prefix ending
 * in `.*` such as `client.*`), `actor` (an actor id: user id, API key id, client_id), `since`
 * (ISO 8601; events at or after it). Cursor pagination on the event id, which only grows.
 */
export const auditOperations = [
  operation({
    id: 'listAuditEvents', method: 'get', path: '/audit-events', access: 'audit:read', tag: 'audit',
    summary: 'Read the audit log, newest first',
    description: 'Logins, credential changes, API-key use from a new IP, refused token requests, role and user changes. Append-only.',
    query: auditQuery,
    status: 200, response: pageSchema(auditEventSchema), responseDescription: 'A page of events',
    handle: (_ctx, { query }, { db }) => readAuditLog(db, query),
  }),
];

async function readAuditLog(db: Queryable, query: z.output<typeof auditQuery>) {
  const limit = parseLimit(query.limit);
  const type = given(query.type);
  const actor = given(query.actor);
  const sinceText = given(query.since);
  const since = sinceText === undefined ? undefined : parseIsoInstant(sinceText);
  if (sinceText !== undefined && !since) {
    throw invalidRequest('since: must be an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z', 'since');
  }
  const cursor = decodeCursor<{ id: string }>(query.cursor, ['id']);
  if (cursor && !/^\d{1,19}$/.test(String(cursor.id))) throw invalidRequest('cursor is not one this server issued', 'cursor');
  if (type !== undefined && type.length > 200) throw invalidRequest('type: at most 200 characters', 'type');
  if (actor !== undefined && actor.length > 200) throw invalidRequest('actor: at most 200 characters', 'actor');

  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (type?.endsWith('.*')) {
    // A prefix match, with LIKE's own wildcards in the prefix taken literally.
    add(`type LIKE ? ESCAPE '\\'`, `${type.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  } else if (type !== undefined) {
    add('type = ?', type);
  }
  if (actor !== undefined) add('actor_id = ?', actor);
  if (since) add('occurred_at >= ?', since);
  if (cursor) add('id < ?::bigint', String(cursor.id));
  params.push(limit + 1);
  const { rows } = await db.query<Row>(
    `SELECT id::text AS id, type, occurred_at, actor_type, actor_id, ip, target_type, target_id, data
     FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     -- The table's bigint id, not the text column of the same name above: as text, "9" sorts after "51".
     ORDER BY audit_events.id DESC LIMIT $${params.length}`,
    params,
  );
  return pageOf(rows, limit, toView, (r) => ({ id: r.id }));
}
