import { requires } from '../authenticate.js';
import { invalidRequest } from '../../services/errors.js';
import { clampInstant, parseIsoInstant } from '../../services/instant.js';
import { decodeCursor, pageOf, parseLimit } from '../../services/pagination.js';
import type { RouteGroup } from '../router.js';

/** One audit event as the API shows it. */
export interface AuditEventView {
  id: string;
  type: string;
  occurred_at: string;
  actor: { type: string; id: string | null; ip: string | null };
  target: { type: string; id: string | null } | null;
  data: Record<string, unknown>;
}

interface Row {
  id: string;
  type: string;
  occurred_at: Date;
  actor_type: string;
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

function singleQuery(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${field} may be given once`, field);
  return value;
}

/**
 * GET /audit-events: the append-only log, newest first. Filters: `type` (exact, or a prefix ending
 * in `.*` such as `client.*`), `actor` (an actor id: user id, API key id, client_id), `since`
 * (ISO 8601; events at or after it). Cursor pagination on the event id, which only grows.
 */
export const auditRoutes: RouteGroup = (router, deps) => {
  router.get('/audit-events', requires('audit:read'), async (ctx) => {
    const limit = parseLimit(ctx.query.limit);
    const type = singleQuery(ctx.query.type, 'type');
    const actor = singleQuery(ctx.query.actor, 'actor');
    const sinceText = singleQuery(ctx.query.since, 'since');
    const since = sinceText === undefined ? undefined : parseIsoInstant(sinceText);
    if (sinceText !== undefined && !since) {
      throw invalidRequest('since: must be an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z', 'since');
    }
    const cursor = decodeCursor(ctx.query.cursor, { id: 'bigint' });
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
    // Before 1970 there are no events (and Postgres has no year 0): such a `since` asks for all of them.
    if (since) add('occurred_at >= ?', clampInstant(since));
    if (cursor) add('id < ?::bigint', cursor.id);
    params.push(limit + 1);
    const { rows } = await deps.db.query<Row>(
      `SELECT id::text AS id, type, occurred_at, actor_type, actor_id, ip, target_type, target_id, data
       FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       -- The table's bigint id, not the text column of the same name above: as text, "9" sorts after "51".
       ORDER BY audit_events.id DESC LIMIT $${params.length}`,
      params,
    );
    ctx.body = pageOf(rows, limit, toView, (r) => ({ id: r.id }));
  });
};
