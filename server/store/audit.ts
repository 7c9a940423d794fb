import type { Queryable } from '../db/database.js';

export interface AuditRow {
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

export interface NewAuditEvent {
  type: string;
  actorType: string;
  actorId: string | null;
  ip: string | null;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
}

/**
 * Appends one event (the table refuses UPDATE and DELETE, migrations 002 and 003), and in the same
 * statement queues it in the outbox for every subscription whose patterns match its type (migration
 * 013: webhook endpoints), so the event and its deliveries commit together. With no subscription
 * the join is over an empty view: no second round trip, and nothing more to do.
 */
export async function insertAuditEvent(q: Queryable, e: NewAuditEvent): Promise<void> {
  await q.query(
    `WITH event AS (
       INSERT INTO audit_events (type, actor_type, actor_id, ip, target_type, target_id, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, type
     )
     INSERT INTO outbox (consumer, subscriber, audit_event_id)
     SELECT s.consumer, s.subscriber, event.id FROM event JOIN outbox_subscriptions s ON event_type_matches(s.patterns, event.type)`,
    [e.type, e.actorType, e.actorId, e.ip, e.targetType, e.targetId, JSON.stringify(e.data)],
  );
}

export interface AuditFilter {
  /** An exact type, or a prefix (`client.`) when typePrefix is set. */
  type?: string;
  typePrefix?: boolean;
  actorId?: string;
  since?: Date;
  /** Events older than this id (the cursor). */
  beforeId?: string;
  limit: number;
}

/** Newest first; the id only grows, so it is the cursor. */
export async function listAuditEvents(q: Queryable, f: AuditFilter): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.type !== undefined && f.typePrefix) {
    // A prefix match, with LIKE's own wildcards in the prefix taken literally.
    add(`type LIKE ? ESCAPE '\\'`, `${f.type.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  } else if (f.type !== undefined) {
    add('type = ?', f.type);
  }
  if (f.actorId !== undefined) add('actor_id = ?', f.actorId);
  if (f.since) add('occurred_at >= ?', f.since);
  if (f.beforeId !== undefined) add('id < ?::bigint', f.beforeId);
  params.push(f.limit);
  const { rows } = await q.query<AuditRow>(
    `SELECT id::text AS id, type, occurred_at, actor_type, actor_id, ip, target_type, target_id, data
     FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     -- The table's bigint id, not the text column of the same name above: as text, "9" sorts after "51".
     ORDER BY audit_events.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}
