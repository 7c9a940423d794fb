import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { type AuditRow, listAuditEvents } from '../store/audit.js';
import { type AuditRef, type AuditRefRow, findAuditRefs, hasDeletionEvent } from '../store/audit-names.js';
import { auditEventSchema, auditView } from './audit.js';
import { maySeeKeyOf } from './api-keys.js';
import { invalidRequest } from './errors.js';
import { clampInstant, parseIsoInstant } from './instant.js';
import { decodeCursor, pageOf, parseLimit } from './pagination.js';
import type { Principal } from './principal.js';

const displaySchema = z
  .strictObject({
    name: z.string().nullable().meta({ description: 'A user’s name, a credential’s (client_name), an API key’s or an API’s name; null when not known.' }),
    email: z.string().nullable().meta({ description: 'A user’s email (also of a deleted user, from the user.deleted event).' }),
    deleted: z.boolean().meta({ description: 'The object no longer exists; the id stays, and what its deletion event recorded is shown.' }),
  })
  .nullable()
  .meta({
    description:
      'Who or what the id names, resolved when the page is read: null for the system, anonymous callers, roles, signing keys, webhooks and streams, ' +
      'for ids the log holds nothing about, and when the caller may not read that kind of object (users:read for users, ' +
      'clients:read for credentials, apis:read for APIs, api-keys:read for API keys: their own, or anyone’s with users:write).',
  });

/**
 * One event of the audit list: the event exactly as webhooks deliver it (actor and target unchanged,
 * so what a consumer compares stays the same), plus who or what its actor and target name.
 */
export const auditLogEntrySchema = auditEventSchema.extend({
  actor_display: displaySchema,
  target_display: displaySchema,
});
export type AuditLogEntry = z.infer<typeof auditLogEntrySchema>;
type Display = z.infer<typeof displaySchema>;

/**
 * Whether the caller may see what an id names. Holding audit:read shows ids, never more: a name or
 * email needs the permission that reads that kind of object, as its own list would (services/
 * permissions.ts); an API key's name, the rule of the API-key list (services/api-keys.ts): your
 * own keys, or everyone's with users:write.
 */
function mayName(caller: Principal, ref: AuditRefRow): boolean {
  const has = (p: string) => caller.permissions.has(p);
  switch (ref.type) {
    case 'user':
      return has('users:read');
    case 'client':
      return has('clients:read');
    case 'api':
      return has('apis:read');
    case 'api_key': {
      const owner = ref.owner_id ?? (typeof ref.deletion?.user_id === 'string' ? ref.deletion.user_id : null);
      return has('api-keys:read') && maySeeKeyOf(caller, owner);
    }
    default:
      return false;
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

function displayOf(ref: AuditRefRow | undefined, caller: Principal): Display {
  if (!ref || !mayName(caller, ref)) return null;
  if (ref.found) return { name: ref.name, email: ref.email, deleted: false };
  // Gone: only what its deletion event recorded (user.deleted: email; api_key.revoked: name).
  if (!ref.deletion) return null;
  return { name: ref.type === 'api_key' ? text(ref.deletion.name) : null, email: ref.type === 'user' ? text(ref.deletion.email) : null, deleted: true };
}

const keyOf = (type: string, id: string) => `${type}\u0000${id}`;

/** Names every actor and target of a page at once: one query (store/audit-names.ts), not one per row. */
async function withDisplayNames(q: Queryable, rows: AuditRow[], caller: Principal): Promise<Map<string, Display>> {
  const refs = new Map<string, AuditRef>();
  for (const r of rows) {
    if (r.actor_id) refs.set(keyOf(r.actor_type, r.actor_id), { type: r.actor_type, id: r.actor_id });
    if (r.target_type && r.target_id) refs.set(keyOf(r.target_type, r.target_id), { type: r.target_type, id: r.target_id });
  }
  const found = new Map((await findAuditRefs(q, [...refs.values()])).map((f) => [keyOf(f.type, f.id), f]));
  return new Map([...refs.keys()].map((k) => [k, displayOf(found.get(k), caller)]));
}

/**
 * The append-only log, newest first. Filters: `type` (exact, or a prefix ending in `.*` such as
 * `client.*`), `actor` (an actor id: user id, API key id, client_id; with users:read also part of
 * a user's email, which finds that person's events and their API keys'), `since` (ISO 8601; events
 * at or after it). Cursor pagination on the event id, which only grows.
 */
export async function listAudit(
  q: Queryable,
  caller: Principal,
  query: { type?: string; actor?: string; since?: string; cursor?: string; limit?: string },
) {
  const limit = parseLimit(query.limit);
  const since = query.since === undefined ? undefined : parseIsoInstant(query.since);
  if (query.since !== undefined && !since) {
    throw invalidRequest('since: must be an ISO 8601 date or date-time, e.g. 2025-01-31 or 2025-01-31T12:00:00Z', 'since');
  }
  const cursor = decodeCursor(query.cursor, { id: 'bigint' });
  if (query.type !== undefined && query.type.length > 200) throw invalidRequest('type: at most 200 characters', 'type');
  if (query.actor !== undefined && query.actor.length > 200) throw invalidRequest('actor: at most 200 characters', 'actor');
  const prefix = query.type?.endsWith('.*');
  const rows = await listAuditEvents(q, {
    type: prefix ? query.type!.slice(0, -1) : query.type,
    typePrefix: prefix,
    actorId: query.actor,
    // Searching by email would tell someone without users:read which addresses have accounts.
    actorEmail: caller.permissions.has('users:read') ? query.actor : undefined,
    // Before 1970 there are no events (and Postgres has no year 0): such a `since` asks for all of them.
    since: since && clampInstant(since),
    beforeId: cursor ? String(cursor.id) : undefined,
    limit: limit + 1,
  });
  const kept = rows.slice(0, limit);
  const names = await withDisplayNames(q, kept, caller);
  const shown = (type: string, id: string | null) => (id ? (names.get(keyOf(type, id)) ?? null) : null);
  return pageOf(
    rows,
    limit,
    (r): AuditLogEntry => {
      const event = auditView(r);
      return {
        ...event,
        actor_display: shown(r.actor_type, r.actor_id),
        target_display: event.target ? shown(event.target.type, event.target.id) : null,
      };
    },
    (r) => ({ id: r.id }),
  );
}

/**
 * Why a token request named a client_id that does not exist: `client_deleted` when the log records
 * its deletion (client.revoked), else `unknown_client` (it never existed, as far as the log knows).
 */
export async function missingClientReason(q: Queryable, clientId: string): Promise<'client_deleted' | 'unknown_client'> {
  return (await hasDeletionEvent(q, 'client', clientId)) ? 'client_deleted' : 'unknown_client';
}
