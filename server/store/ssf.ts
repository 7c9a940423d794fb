import type { Queryable } from '../db/database.js';

/** Transaction-level advisory lock taken by every append: event ids commit in the order given (migration 015). */
const APPEND_LOCK = 0x7373_6631; // "ssf1"

export interface NewSsfEvent {
  eventType: string;
  subId: Record<string, unknown>;
  event: Record<string, unknown>;
  streamId?: string;
  retentionSeconds: number;
}

export interface SsfEventRow {
  id: string;
  occurred_at: Date;
  event_type: string;
  sub_id: Record<string, unknown>;
  event: Record<string, unknown>;
}

/**
 * Appends one event in the caller's transaction (or on its own, outside one). The lock and the insert
 * are one statement, so the id is drawn only once the lock is held and the lock is released at commit.
 */
export async function appendSsfEvent(q: Queryable, e: NewSsfEvent): Promise<void> {
  await q.query(
    `WITH lock AS (SELECT pg_advisory_xact_lock(${APPEND_LOCK}))
     INSERT INTO ssf_events (event_type, sub_id, event, stream_id, expires_at)
     SELECT $1, $2, $3, $4, now() + make_interval(secs => $5::int) FROM lock`,
    [e.eventType, JSON.stringify(e.subId), JSON.stringify(e.event), e.streamId ?? null, e.retentionSeconds],
  );
}

export async function lastSsfEventId(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ id: string }>('SELECT COALESCE(max(id), 0)::text AS id FROM ssf_events');
  return rows[0].id;
}

export async function sweepSsfEvents(q: Queryable): Promise<number> {
  const { rowCount } = await q.query('DELETE FROM ssf_events WHERE expires_at < now()');
  return rowCount;
}

export interface StreamRow {
  id: string;
  client_id: string;
  description: string | null;
  delivery_method: string;
  endpoint_url: string | null;
  authorization_header_sealed: string | null;
  events_requested: string[];
  status: 'enabled' | 'paused' | 'disabled';
  status_reason: string | null;
  acked_through: string;
  last_delivered_id: string | null;
  last_delivered_at: Date | null;
  last_contact_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const STREAM_COLUMNS = `id::text AS id, client_id, description, delivery_method, endpoint_url, authorization_header_sealed,
  events_requested, status, status_reason, acked_through::text AS acked_through, last_delivered_id::text AS last_delivered_id,
  last_delivered_at, last_contact_at, created_at, updated_at`;

export interface StreamFields {
  description: string | null;
  deliveryMethod: string;
  endpointUrl: string | null;
  authorizationHeaderSealed: string | null;
  eventsRequested: string[];
}

/**
 * A new stream starts with the events of the last `backfillSeconds` (the longest an access token
 * lives): a resource server that starts now learns of every revocation that can still matter to a
 * token it may be shown.
 */
export async function insertStream(q: Queryable, id: string, clientId: string, f: StreamFields, backfillSeconds: number): Promise<StreamRow> {
  const { rows } = await q.query<StreamRow>(
    `INSERT INTO ssf_streams (id, client_id, description, delivery_method, endpoint_url, authorization_header_sealed, events_requested, acked_through)
     VALUES ($1, $2, $3, $4, $5, $6, $7,
       (SELECT COALESCE(max(id), 0) FROM ssf_events WHERE occurred_at < now() - make_interval(secs => $8::int)))
     RETURNING ${STREAM_COLUMNS}`,
    [id, clientId, f.description, f.deliveryMethod, f.endpointUrl, f.authorizationHeaderSealed, f.eventsRequested, backfillSeconds],
  );
  return rows[0];
}

export async function updateStreamRow(q: Queryable, id: string, f: StreamFields): Promise<StreamRow | undefined> {
  const { rows } = await q.query<StreamRow>(
    `UPDATE ssf_streams SET description = $2, delivery_method = $3, endpoint_url = $4, authorization_header_sealed = $5,
       events_requested = $6, updated_at = now()
     WHERE id = $1 RETURNING ${STREAM_COLUMNS}`,
    [id, f.description, f.deliveryMethod, f.endpointUrl, f.authorizationHeaderSealed, f.eventsRequested],
  );
  return rows[0];
}

/**
 * SSF 1.0 §8.1.2: a disabled stream drops events, so enabling it again starts after the newest one;
 * a paused stream keeps them, so resuming it delivers what it missed.
 */
export async function setStreamStatus(q: Queryable, id: string, status: StreamRow['status'], reason: string | null): Promise<StreamRow | undefined> {
  const { rows } = await q.query<StreamRow>(
    `UPDATE ssf_streams SET status = $2, status_reason = $3, updated_at = now(),
       acked_through = CASE WHEN status = 'disabled' AND $2 <> 'disabled' THEN (SELECT COALESCE(max(id), 0) FROM ssf_events) ELSE acked_through END
     WHERE id = $1 RETURNING ${STREAM_COLUMNS}`,
    [id, status, reason],
  );
  return rows[0];
}

export async function findStream(q: Queryable, id: string): Promise<StreamRow | undefined> {
  const { rows } = await q.query<StreamRow>(`SELECT ${STREAM_COLUMNS} FROM ssf_streams WHERE id = $1`, [id]);
  return rows[0];
}

export async function listStreamsOf(q: Queryable, clientId: string | null): Promise<StreamRow[]> {
  const { rows } = await q.query<StreamRow>(
    `SELECT ${STREAM_COLUMNS} FROM ssf_streams WHERE $1::text IS NULL OR client_id = $1 ORDER BY created_at, id`,
    [clientId],
  );
  return rows;
}

export async function deleteStreamRow(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query('DELETE FROM ssf_streams WHERE id = $1', [id]);
  return rowCount > 0;
}

/** The events this stream has not had acknowledged yet, oldest first. */
const PENDING = `FROM ssf_events e
  WHERE e.id > s.acked_through AND e.expires_at > now()
    AND (e.stream_id = s.id OR (e.stream_id IS NULL AND (cardinality(s.events_requested) = 0 OR e.event_type = ANY(s.events_requested))))
    AND NOT EXISTS (SELECT 1 FROM ssf_acks a WHERE a.stream_id = s.id AND a.event_id = e.id)`;

export async function pendingEvents(q: Queryable, streamId: string, limit: number): Promise<SsfEventRow[]> {
  const { rows } = await q.query<SsfEventRow>(
    `SELECT e.id::text AS id, e.occurred_at, e.event_type, e.sub_id, e.event
     FROM ssf_streams s CROSS JOIN LATERAL (SELECT e.* ${PENDING} ORDER BY e.id LIMIT $2) e
     WHERE s.id = $1 ORDER BY e.id`,
    [streamId, limit],
  );
  return rows;
}

/** How many events wait for the stream, and since when the oldest: its lag. */
export async function streamBacklog(q: Queryable, streamId: string): Promise<{ pending: number; oldest: Date | null }> {
  const { rows } = await q.query<{ pending: number; oldest: Date | null }>(
    `SELECT count(*)::int AS pending, min(e.occurred_at) AS oldest FROM ssf_streams s CROSS JOIN LATERAL (SELECT e.* ${PENDING}) e WHERE s.id = $1`,
    [streamId],
  );
  return rows[0] ?? { pending: 0, oldest: null };
}

/**
 * RFC 8936 §2.4 acknowledgements, then the cursor moved up to just below the oldest event still
 * unacknowledged (or to the newest event acknowledged), and the acks it passed forgotten.
 */
export async function acknowledge(q: Queryable, streamId: string, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length) {
    await q.query(
      `INSERT INTO ssf_acks (stream_id, event_id)
       SELECT $1, x::bigint FROM unnest($2::text[]) x
       WHERE x::bigint > (SELECT acked_through FROM ssf_streams WHERE id = $1)
         -- Only events that exist: an ack of an id not yet given out would move the cursor past it.
         AND EXISTS (SELECT 1 FROM ssf_events e WHERE e.id = x::bigint)
       ON CONFLICT DO NOTHING`,
      [streamId, eventIds],
    );
  }
  await q.query(
    `UPDATE ssf_streams s SET acked_through = GREATEST(s.acked_through, COALESCE(
       (SELECT min(e.id) - 1 ${PENDING}),
       (SELECT max(a.event_id) FROM ssf_acks a WHERE a.stream_id = s.id),
       s.acked_through))
     WHERE s.id = $1`,
    [streamId],
  );
  await q.query('DELETE FROM ssf_acks a USING ssf_streams s WHERE s.id = $1 AND a.stream_id = s.id AND a.event_id <= s.acked_through', [streamId]);
}

export async function markContact(q: Queryable, streamId: string, deliveredId?: string): Promise<void> {
  await q.query(
    `UPDATE ssf_streams SET last_contact_at = now(),
       last_delivered_id = COALESCE($2::bigint, last_delivered_id),
       last_delivered_at = CASE WHEN $2::bigint IS NULL THEN last_delivered_at ELSE now() END
     WHERE id = $1`,
    [streamId, deliveredId ?? null],
  );
}

/**
 * Push delivery: the enabled push streams this node may deliver now (it holds their lease, or nobody
 * does, or the holder's lease ran out: a node that died mid-delivery is replaced), leased for
 * leaseSeconds more.
 */
export async function leasePushStreams(q: Queryable, node: string, leaseSeconds: number): Promise<StreamRow[]> {
  const { rows } = await q.query<StreamRow>(
    `UPDATE ssf_streams SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::int)
     WHERE delivery_method = 'urn:ietf:rfc:8935' AND status = 'enabled'
       AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < now())
     RETURNING ${STREAM_COLUMNS}`,
    [node, leaseSeconds],
  );
  return rows;
}

/**
 * A push receiver answered 202 for this event: the cursor moves, if this node still holds the lease,
 * and the lease is renewed, so a long backlog to a slow receiver is not taken over by another node
 * while this one is making progress (two nodes pushing one stream would only send SETs twice).
 */
export async function advancePushCursor(q: Queryable, streamId: string, node: string, eventId: string, leaseSeconds: number): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE ssf_streams SET acked_through = GREATEST(acked_through, $3::bigint), last_delivered_id = $3::bigint,
       last_delivered_at = now(), last_contact_at = now(), lease_until = now() + make_interval(secs => $4::int)
     WHERE id = $1 AND lease_owner = $2`,
    [streamId, node, eventId, leaseSeconds],
  );
  return rowCount > 0;
}

export async function releaseLeases(q: Queryable, node: string): Promise<void> {
  await q.query('UPDATE ssf_streams SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1', [node]);
}
