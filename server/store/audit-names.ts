import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

/** An object an audit event names, as the event stores it: a user, API key, client or API. */
export interface AuditRef {
  type: string;
  id: string;
}

/** What the database knows of one such object now, or, once it is gone, from its deletion event. */
export interface AuditRefRow {
  type: string;
  id: string;
  /** The object exists: its current name (client_name for a client) and, for a user, email. */
  found: boolean;
  name: string | null;
  email: string | null;
  /** An API key's owner (the delegation rule shows a key's name to its owner or users:write). */
  owner_id: string | null;
  /** The data of the event that deleted it (user.deleted, api_key.revoked, client.revoked, api.deleted). */
  deletion: Record<string, unknown> | null;
}

/** The kinds of object a name can be found for. */
export const NAMED_KINDS = ['user', 'api_key', 'client', 'api'] as const;

/** The event types that record an object's deletion, by kind of object. */
const DELETION_EVENTS: Record<(typeof NAMED_KINDS)[number], string> = {
  user: 'user.deleted',
  api_key: 'api_key.revoked',
  client: 'client.revoked',
  api: 'api.deleted',
};

/**
 * Every object of one page of the audit log in ONE query, however many events the page holds:
 * the refs go in as arrays (unnest) and come out joined to their tables. Ids that are not uuids
 * cannot be users, keys or APIs (a forged or foreign id in an event), so they are passed as null
 * rather than cast in SQL, where a bad cast would fail the whole page. A row that is gone is looked
 * up in the log itself by target (migration 016's index), newest deletion first.
 */
export async function findAuditRefs(q: Queryable, refs: readonly AuditRef[]): Promise<AuditRefRow[]> {
  const wanted = refs.filter((r) => (NAMED_KINDS as readonly string[]).includes(r.type));
  if (!wanted.length) return [];
  const { rows } = await q.query<AuditRefRow>(
    `SELECT r.type, r.id,
            (u.id IS NOT NULL OR k.id IS NOT NULL OR c.client_id IS NOT NULL OR a.id IS NOT NULL) AS found,
            COALESCE(u.name, k.name, c.metadata->>'client_name', a.name) AS name,
            u.email,
            k.user_id::text AS owner_id,
            gone.data AS deletion
     FROM unnest($1::text[], $2::text[], $3::uuid[]) AS r(type, id, uid)
     LEFT JOIN users u ON r.type = 'user' AND u.id = r.uid
     LEFT JOIN api_keys k ON r.type = 'api_key' AND k.id = r.uid
     LEFT JOIN clients c ON r.type = 'client' AND c.client_id = r.id
     LEFT JOIN apis a ON r.type = 'api' AND a.id = r.uid
     LEFT JOIN LATERAL (
       SELECT e.data FROM audit_events e
       WHERE u.id IS NULL AND k.id IS NULL AND c.client_id IS NULL AND a.id IS NULL
         AND e.target_type = r.type AND e.target_id = r.id
         AND e.type = ANY ($4::text[])
       ORDER BY e.id DESC LIMIT 1
     ) gone ON true`,
    [wanted.map((r) => r.type), wanted.map((r) => r.id), wanted.map((r) => (isUuid(r.id) ? r.id : null)), Object.values(DELETION_EVENTS)],
  );
  return rows;
}

/** Whether the log records the deletion of this object (one probe of migration 016's index). */
export async function hasDeletionEvent(q: Queryable, type: (typeof NAMED_KINDS)[number], id: string): Promise<boolean> {
  const { rows } = await q.query(
    'SELECT 1 FROM audit_events WHERE target_type = $1 AND target_id = $2 AND type = $3 LIMIT 1',
    [type, id, DELETION_EVENTS[type]],
  );
  return rows.length > 0;
}
