import type { Queryable } from '../db/database.js';

export type ActorType = 'user' | 'api_key' | 'client' | 'system' | 'anonymous';

export interface Actor {
  type: ActorType;
  id?: string;
  ip?: string;
}

export interface AuditEvent {
  type: string;
  actor: Actor;
  target?: { type: string; id: string };
  /** Never a secret: ids, names, scopes, reasons. */
  data?: Record<string, unknown>;
}

/**
 * Appends one audit event. Callers pass the transaction that makes the change, so the change and
 * its record commit or roll back together.
 */
export async function recordAudit(q: Queryable, event: AuditEvent): Promise<void> {
  await q.query(
    `INSERT INTO audit_events (type, actor_type, actor_id, ip, target_type, target_id, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      event.type,
      event.actor.type,
      event.actor.id ?? null,
      event.actor.ip ?? null,
      event.target?.type ?? null,
      event.target?.id ?? null,
      JSON.stringify(event.data ?? {}),
    ],
  );
}

export const SYSTEM: Actor = { type: 'system' };
