import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { type AuditRow, insertAuditEvent } from '../store/audit.js';
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
  await insertAuditEvent(q, {
    type: event.type,
    actorType: event.actor.type,
    actorId: event.actor.id ?? null,
    ip: event.actor.ip ?? null,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    data: event.data ?? {},
  });
}

export const SYSTEM: Actor = { type: 'system' };

/** An event as the Management API and webhook deliveries show it. */
export const auditView = (r: AuditRow): AuditEventView => ({
  id: r.id,
  type: r.type,
  occurred_at: new Date(r.occurred_at).toISOString(),
  actor: { type: r.actor_type as ActorType, id: r.actor_id, ip: r.ip },
  target: r.target_type ? { type: r.target_type, id: r.target_id } : null,
  data: r.data,
});
