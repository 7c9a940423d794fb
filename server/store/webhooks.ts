import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

/** A webhook endpoint as stored (migration 013); its secrets stay sealed here. */
export interface WebhookEndpointRow {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: 'failing' | 'manual' | null;
  disabled_at: Date | null;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_expires_at: Date | null;
  failing_since: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface NewWebhookEndpoint {
  /** Chosen before the insert: the sealed secret is bound to it. */
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  secretSealed: string;
  createdBy: string | null;
}

export async function insertWebhookEndpoint(q: Queryable, e: NewWebhookEndpoint): Promise<WebhookEndpointRow> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `INSERT INTO webhook_endpoints (id, url, description, event_types, secret_sealed, created_by)
     VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), $5, $6) RETURNING *`,
    [e.id, e.url, e.description, JSON.stringify(e.eventTypes), e.secretSealed, e.createdBy],
  );
  return rows[0];
}

export async function findWebhookEndpointRow(q: Queryable, id: string): Promise<WebhookEndpointRow | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await q.query<WebhookEndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
  return rows[0];
}

/**
 * Oldest first; the cursor is the last row's (created_at, id). Compared at the milliseconds the cursor
 * carries (a JavaScript date), or a row stored with microseconds would come after its own cursor.
 */
export async function listWebhookEndpointRows(q: Queryable, f: { after?: { createdAt: string; id: string }; limit: number }): Promise<WebhookEndpointRow[]> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `SELECT * FROM webhook_endpoints
     WHERE $1::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($1::timestamptz, $2::uuid)
     ORDER BY date_trunc('milliseconds', created_at), id LIMIT $3`,
    [f.after?.createdAt ?? null, f.after?.id ?? null, f.limit],
  );
  return rows;
}

export interface WebhookEndpointPatch {
  url?: string;
  description?: string;
  eventTypes?: string[];
  enabled?: boolean;
}

/**
 * Changes what is given. Enabling clears why it was disabled and its failure streak; disabling by
 * hand records 'manual'.
 */
export async function updateWebhookEndpointFields(q: Queryable, id: string, p: WebhookEndpointPatch): Promise<WebhookEndpointRow> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints SET
       url = coalesce($2, url),
       description = coalesce($3, description),
       event_types = CASE WHEN $4::jsonb IS NULL THEN event_types ELSE ARRAY(SELECT jsonb_array_elements_text($4::jsonb)) END,
       disabled_reason = CASE WHEN $5::boolean IS NULL OR $5 = enabled THEN disabled_reason WHEN $5 THEN NULL ELSE 'manual' END,
       disabled_at = CASE WHEN $5::boolean IS NULL OR $5 = enabled THEN disabled_at WHEN $5 THEN NULL ELSE now() END,
       failing_since = CASE WHEN $5::boolean AND NOT enabled THEN NULL ELSE failing_since END,
       enabled = coalesce($5, enabled),
       updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, p.url ?? null, p.description ?? null, p.eventTypes ? JSON.stringify(p.eventTypes) : null, p.enabled ?? null],
  );
  return rows[0];
}

/** A new secret; the one it replaces keeps signing beside it until previousExpiresAt. */
export async function replaceWebhookSecret(q: Queryable, id: string, s: { secretSealed: string; previousSealed: string | null; previousExpiresAt: Date | null }): Promise<WebhookEndpointRow> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `UPDATE webhook_endpoints SET secret_sealed = $2, previous_secret_sealed = $3, previous_expires_at = $4, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, s.secretSealed, s.previousSealed, s.previousExpiresAt],
  );
  return rows[0];
}

export async function deleteWebhookEndpointRow(q: Queryable, id: string): Promise<void> {
  await q.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
}

/** A delivery succeeded: the endpoint is not failing (any more). */
export async function markWebhookSucceeded(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [id]);
}

/** An attempt failed: the streak starts now unless it already had. */
export async function markWebhookFailing(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE webhook_endpoints SET failing_since = now() WHERE id = $1 AND failing_since IS NULL', [id]);
}

/**
 * Disables an endpoint whose failure streak has lasted a whole retry schedule; false when it is no
 * longer enabled or succeeded meanwhile (another delivery got through).
 */
export async function disableFailingWebhook(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', disabled_at = now(), updated_at = now()
     WHERE id = $1 AND enabled AND failing_since IS NOT NULL`,
    [id],
  );
  return rowCount === 1;
}
