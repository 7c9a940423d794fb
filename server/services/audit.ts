import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { timestamp } from './validation.js';

const ACTOR_TYPES = ['user', 'api_key', 'client', 'system', 'anonymous'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

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

/** One audit event as the Management API shows it. */
export const auditEventSchema = z.strictObject({
  id: z.string().meta({ description: 'Grows with every event: newer events have larger ids.' }),
  type: z.string().meta({ examples: ['client.created'] }),
  occurred_at: timestamp,
  actor: z.strictObject({
    type: z.enum(ACTOR_TYPES),
    id: z.string().nullable().meta({ description: 'A user id, API key id or client_id; null for the system.' }),
    ip: z.string().nullable(),
  }),
  target: z.strictObject({ type: z.string(), id: z.string().nullable() }).nullable(),
  data: z.record(z.string(), z.unknown()).meta({ description: 'What changed: ids, names, scopes, reasons; never a secret.' }),
});
export type AuditEventView = z.infer<typeof auditEventSchema>;

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
