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
  /**
   * With actorId: also the events of every user whose email contains this (any case), and of their
   * API keys. Only for callers who may read users (services/audit-log.ts decides).
   */
  actorEmail?: string;
  since?: Date;
  /** Events older than this id (the cursor). */
  beforeId?: string;
  limit: number;
}

/** A value for LIKE with LIKE's own wildcards (and the escape) taken literally. */
const likeLiteral = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

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
    add(`type LIKE ? ESCAPE '\\'`, `${likeLiteral(f.type)}%`);
  } else if (f.type !== undefined) {
    add('type = ?', f.type);
  }
  if (f.actorId !== undefined && f.actorEmail !== undefined) {
    // One parameter for the id, one for the email pattern (LIKE's wildcards in it taken literally).
    // The people are found first (ARRAY(...)), so the log is read through its actor index.
    params.push(f.actorId, `%${likeLiteral(f.actorEmail.toLowerCase())}%`);
    const [id, pattern] = [`$${params.length - 1}`, `$${params.length}`];
    where.push(`(actor_id = ${id}
      OR (actor_type = 'user' AND actor_id = ANY (ARRAY(SELECT u.id::text FROM users u WHERE lower(u.email) LIKE ${pattern} ESCAPE '\\')))
      OR (actor_type = 'api_key' AND actor_id = ANY (ARRAY(SELECT k.id::text FROM api_keys k JOIN users u ON u.id = k.user_id WHERE lower(u.email) LIKE ${pattern} ESCAPE '\\'))))`);
  } else if (f.actorId !== undefined) {
    add('actor_id = ?', f.actorId);
  }
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
