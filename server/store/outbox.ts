import type { Queryable } from '../db/database.js';
import type { AuditRow } from './audit.js';

/**
 * The outbox of migration 013: one row per audit event and subscriber, written with the event
 * (store/audit.ts). Any consumer claims its own rows by name; webhooks are the first.
 *
 * next_attempt_at is also the lease. A claim moves it into the future by the lease length and names
 * the claimer in lease_id, inside one UPDATE over rows picked with FOR UPDATE SKIP LOCKED: nodes
 * claiming at once take different rows and none waits for another, and a row is never held by two
 * nodes while its lease runs. A node that dies holding a lease loses nothing: the row is due again
 * once the lease ends. Results are written only while the lease is still the claimer's.
 */

export interface ClaimedRow {
  id: string;
  subscriber: string;
  /** Counting this one. */
  attempts: number;
  lease_id: string;
  event: AuditRow;
}

export async function claimDue(q: Queryable, consumer: string, o: { limit: number; leaseSeconds: number; leaseId: string }): Promise<ClaimedRow[]> {
  const { rows } = await q.query<Omit<ClaimedRow, 'event'> & { event: AuditRow & { id: number } }>(
    `WITH due AS (
       SELECT id FROM outbox
       WHERE consumer = $1 AND state = 'pending' AND next_attempt_at <= now()
         AND subscriber IN (SELECT subscriber FROM outbox_subscriptions WHERE consumer = $1)
       ORDER BY next_attempt_at LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE outbox o SET next_attempt_at = now() + make_interval(secs => $3), lease_id = $4, attempts = o.attempts + 1
     FROM due, audit_events a
     WHERE o.id = due.id AND a.id = o.audit_event_id
     RETURNING o.id::text AS id, o.subscriber, o.attempts, o.lease_id,
       jsonb_build_object('id', a.id::text, 'type', a.type, 'occurred_at', a.occurred_at, 'actor_type', a.actor_type,
         'actor_id', a.actor_id, 'ip', a.ip, 'target_type', a.target_type, 'target_id', a.target_id, 'data', a.data) AS event`,
    [consumer, o.limit, o.leaseSeconds, o.leaseId],
  );
  return rows.map((r) => ({ ...r, event: { ...r.event, occurred_at: new Date(r.event.occurred_at) } }));
}

/** Seconds until this consumer's next row is due (0 if one is due now); null when none is pending. */
export async function secondsUntilDue(q: Queryable, consumer: string): Promise<number | null> {
  const { rows } = await q.query<{ s: number | null }>(
    // No row when nothing is pending: greatest() skips NULLs, so greatest(0, min(...)) over no rows
    // is 0, "due now", and an idle dispatcher would look again every 50 ms for ever.
    `SELECT greatest(0, extract(epoch FROM due - now()))::float8 AS s
     FROM (SELECT min(next_attempt_at) AS due FROM outbox
           WHERE consumer = $1 AND state = 'pending'
             AND subscriber IN (SELECT subscriber FROM outbox_subscriptions WHERE consumer = $1)) pending
     WHERE due IS NOT NULL`,
    [consumer],
  );
  return rows[0]?.s ?? null;
}

export type Outcome = { state: 'delivered' | 'failed' } | { state: 'pending'; retryInSeconds: number };

/** Ends a claim; false when the lease was no longer ours (it ran out and another node took the row). */
export async function finishClaim(q: Queryable, id: string, leaseId: string, outcome: Outcome): Promise<boolean> {
  const retry = outcome.state === 'pending' ? outcome.retryInSeconds : 0;
  const { rowCount } = await q.query(
    `UPDATE outbox SET state = $3, lease_id = NULL,
       next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $4) ELSE next_attempt_at END,
       finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
     WHERE id = $1::bigint AND lease_id = $2 AND state = 'pending'`,
    [id, leaseId, outcome.state, retry],
  );
  return rowCount === 1;
}

/**
 * Hands claims back: due again at once. A node stopping mid-delivery hands back its own (leaseIds)
 * uncounted, since it gave up on them; with no lease ids, every lease of the consumer, counted (the
 * process that held them may have reached the receiver before it died). That is only for the
 * embedded database, whose one process owns every lease, so at start any lease is a dead process's.
 */
export async function releaseClaims(q: Queryable, consumer: string, leaseIds?: readonly string[]): Promise<number> {
  const { rowCount } = await q.query(
    `UPDATE outbox SET next_attempt_at = now(), lease_id = NULL, attempts = CASE WHEN $2::jsonb IS NULL THEN attempts ELSE greatest(0, attempts - 1) END
     WHERE consumer = $1 AND state = 'pending' AND lease_id IS NOT NULL
       AND ($2::jsonb IS NULL OR lease_id::text IN (SELECT jsonb_array_elements_text($2::jsonb)))`,
    [consumer, leaseIds ? JSON.stringify(leaseIds) : null],
  );
  return rowCount;
}

export interface NewAttempt {
  outboxId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  status: number | null;
  error: string | null;
}

export async function insertAttempt(q: Queryable, a: NewAttempt): Promise<void> {
  await q.query(
    `INSERT INTO outbox_attempts (outbox_id, attempt, started_at, duration_ms, status, error) VALUES ($1::bigint, $2, $3, $4, $5, $6)`,
    [a.outboxId, a.attempt, a.startedAt, a.durationMs, a.status, a.error],
  );
}

export interface AttemptRow {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status: number | null;
  error: string | null;
}

export interface DeliveryRow {
  id: string;
  audit_event_id: string;
  event_type: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  leased: boolean;
  created_at: Date;
  finished_at: Date | null;
  attempt_list: AttemptRow[];
}

/** One subscriber's deliveries, newest first, each with its attempts in order. */
export async function listDeliveryRows(q: Queryable, consumer: string, subscriber: string, f: { beforeId?: string; limit: number }): Promise<DeliveryRow[]> {
  const { rows } = await q.query<DeliveryRow>(
    `SELECT o.id::text AS id, o.audit_event_id::text AS audit_event_id, a.type AS event_type, o.state, o.attempts,
       o.next_attempt_at, o.lease_id IS NOT NULL AS leased, o.created_at, o.finished_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('attempt', t.attempt, 'started_at', t.started_at, 'duration_ms', t.duration_ms,
                  'status', t.status, 'error', t.error) ORDER BY t.attempt, t.id)
                 FROM outbox_attempts t WHERE t.outbox_id = o.id), '[]'::jsonb) AS attempt_list
     FROM outbox o JOIN audit_events a ON a.id = o.audit_event_id
     WHERE o.consumer = $1 AND o.subscriber = $2 AND ($3::bigint IS NULL OR o.id < $3::bigint)
     ORDER BY o.id DESC LIMIT $4`,
    [consumer, subscriber, f.beforeId ?? null, f.limit],
  );
  return rows;
}

/** Forgets finished rows (and, by cascade, their attempts) older than this many days. */
export async function deleteFinishedRows(q: Queryable, consumer: string, days: number): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM outbox WHERE consumer = $1 AND state <> 'pending' AND finished_at < now() - make_interval(days => $2)`,
    [consumer, days],
  );
  return rowCount;
}

/** A subscriber's rows (and, by cascade, their attempts), when the subscriber goes. */
export async function deleteSubscriberRows(q: Queryable, consumer: string, subscriber: string): Promise<void> {
  await q.query('DELETE FROM outbox WHERE consumer = $1 AND subscriber = $2', [consumer, subscriber]);
}

/** Pending rows of a subscriber become due at once (an endpoint enabled again). */
export async function makeSubscriberDue(q: Queryable, consumer: string, subscriber: string): Promise<void> {
  await q.query(
    `UPDATE outbox SET next_attempt_at = now() WHERE consumer = $1 AND subscriber = $2 AND state = 'pending' AND lease_id IS NULL`,
    [consumer, subscriber],
  );
}
