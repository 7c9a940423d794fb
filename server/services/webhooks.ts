import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import { deleteSubscriberRows, type DeliveryRow, listDeliveryRows, makeSubscriberDue } from '../store/outbox.js';
import {
  deleteWebhookEndpointRow, findWebhookEndpointRow, insertWebhookEndpoint, listWebhookEndpointRows, replaceWebhookSecret,
  updateWebhookEndpointFields, type WebhookEndpointRow,
} from '../store/webhooks.js';
import { recordAudit } from './audit.js';
import { assertMayConfer } from './delegation.js';
import { invalidRequest, notFound } from './errors.js';
import { DESCRIPTION_MAX } from './limits.js';
import { decodeCursor, pageOf, pageQuery, parseLimit } from './pagination.js';
import type { Principal } from './principal.js';
import { expiresIn, iso, optionalTimestamp, timestamp } from './validation.js';

/** The outbox consumer name of webhook deliveries (store/outbox.ts, migration 013's view). */
export const WEBHOOK_CONSUMER = 'webhook';

/**
 * An endpoint receives audit events: it is a standing read of the audit log, so whoever registers,
 * redirects, widens or re-enables one must hold audit:read now (the delegation rule).
 */
const CONFERS = ['audit:read'];

/** What seals an endpoint's secret is bound to: this row, for this purpose. */
export const secretAad = (id: string) => `webhook:${id}`;

/** Standard Webhooks secrets: whsec_ and base64 of 24-64 random bytes. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * https, or plain http to this machine (a receiver in development): audit events name users,
 * addresses and credentials, and must not cross a network in clear. No credentials in the URL and
 * no fragment (it is never sent).
 */
const endpointUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return; // z.url() has said so
    }
    if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'must not hold credentials: the secret signs each delivery' });
    if (v.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not have a fragment' });
    if (u.protocol === 'http:' && !LOOPBACK.test(u.hostname)) ctx.addIssue({ code: 'custom', message: 'must be https (plain http only to localhost)' });
  })
  .meta({ description: 'Where deliveries are POSTed: https, or http to localhost.', examples: ['https://hooks.example.com/gatehouse'] });

/** An audit event type, a prefix ending in .* (client.*), or * for every event. */
const eventType = z
  .string()
  .max(100)
  .regex(/^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/, 'an event type (api_key.revoked), a prefix ending in .* (client.*), or *')
  .meta({ examples: ['client.*', 'api_key.revoked'] });

const eventTypes = z.array(eventType).min(1).max(50).transform((t) => [...new Set(t)]);
const description = z.string().trim().max(DESCRIPTION_MAX);

export const createWebhookSchema = z.strictObject({
  url: endpointUrl,
  event_types: eventTypes,
  description: description.default(''),
});

export const updateWebhookSchema = z.strictObject({
  url: endpointUrl.optional(),
  event_types: eventTypes.optional(),
  description: description.optional(),
  enabled: z.boolean().optional().meta({ description: 'false pauses deliveries; true resumes them, including those waiting.' }),
});

export const rotateWebhookSecretSchema = z.strictObject({
  previous_expires_in: z
    .union([z.literal(0), expiresIn])
    .default(86400)
    .refine((s) => s <= 7 * 86400, 'at most 7 days')
    .meta({ description: 'How long the old secret keeps signing beside the new one (default 1 day; 0 stops it at once).' }),
});

export const webhookSchema = z.strictObject({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  status: z.enum(['active', 'failing', 'disabled']).meta({
    description: 'failing: recent attempts failed and retries go on; disabled: paused by hand, or given up after failing for a whole retry schedule (disabled_reason says which).',
  }),
  disabled_reason: z.enum(['failing', 'manual']).nullable(),
  disabled_at: optionalTimestamp,
  failing_since: optionalTimestamp,
  previous_secret_expires_at: optionalTimestamp.meta({ description: 'Until then deliveries carry a signature with the previous secret too.' }),
  created_by: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export const webhookCreatedSchema = webhookSchema.extend({
  secret: z.string().regex(/^whsec_/).meta({ description: 'The signing secret: shown in this response only, never again.' }),
});

const attemptSchema = z.strictObject({
  attempt: z.number().int(),
  started_at: timestamp,
  duration_ms: z.number().int(),
  status: z.number().int().nullable().meta({ description: 'The receiver’s HTTP status; null when none came (error says why).' }),
  error: z.string().nullable(),
});

export const deliverySchema = z.strictObject({
  id: z.string().meta({ description: 'The webhook-id header of this message (msg_…): the same on every attempt.' }),
  audit_event_id: z.string(),
  event_type: z.string(),
  state: z.enum(['pending', 'delivering', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: optionalTimestamp.meta({ description: 'When it is tried next (pending only).' }),
  created_at: timestamp,
  finished_at: optionalTimestamp,
  attempt_log: z.array(attemptSchema),
});

export const messageId = (outboxId: string) => `msg_${outboxId}`;

export function serializeWebhook(r: WebhookEndpointRow): z.infer<typeof webhookSchema> {
  const previousLive = r.previous_expires_at && new Date(r.previous_expires_at).getTime() > Date.now();
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    event_types: r.event_types,
    enabled: r.enabled,
    status: !r.enabled ? 'disabled' : r.failing_since ? 'failing' : 'active',
    disabled_reason: r.disabled_reason,
    disabled_at: iso(r.disabled_at),
    failing_since: iso(r.failing_since),
    previous_secret_expires_at: previousLive ? iso(r.previous_expires_at) : null,
    created_by: r.created_by,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

function serializeDelivery(r: DeliveryRow): z.infer<typeof deliverySchema> {
  return {
    id: messageId(r.id),
    audit_event_id: r.audit_event_id,
    event_type: r.event_type,
    state: r.state === 'pending' && r.leased ? 'delivering' : r.state,
    attempts: r.attempts,
    next_attempt_at: r.state === 'pending' && !r.leased ? new Date(r.next_attempt_at).toISOString() : null,
    created_at: new Date(r.created_at).toISOString(),
    finished_at: iso(r.finished_at),
    attempt_log: r.attempt_list.map((a) => ({ ...a, started_at: new Date(a.started_at).toISOString() })),
  };
}

async function mustFind(q: Queryable, id: string): Promise<WebhookEndpointRow> {
  const row = await findWebhookEndpointRow(q, id);
  if (!row) throw notFound(`webhook endpoint ${id}`);
  return row;
}

export async function createWebhook(db: Database, sealer: Sealer, input: z.infer<typeof createWebhookSchema>, principal: Principal) {
  const id = randomUUID();
  const secret = newSecret();
  return db.transaction(async (tx) => {
    await assertMayConfer(tx, principal, CONFERS, 'a webhook endpoint (it receives the audit log)');
    const row = await insertWebhookEndpoint(tx, {
      id, url: input.url, description: input.description, eventTypes: input.event_types,
      secretSealed: sealer.seal(secret, secretAad(id)), createdBy: principal.ownerId ?? principal.userId ?? null,
    });
    await recordAudit(tx, {
      type: 'webhook.created', actor: principal.actor, target: { type: 'webhook', id },
      data: { url: input.url, event_types: input.event_types },
    });
    return { ...serializeWebhook(row), secret };
  });
}

export async function listWebhooks(db: Queryable, query: z.infer<typeof pageQuery>) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { c: 'timestamp', i: 'uuid' });
  const rows = await listWebhookEndpointRows(db, { after: after && { createdAt: after.c, id: after.i }, limit: limit + 1 });
  return pageOf(rows, limit, serializeWebhook, (r) => ({ c: new Date(r.created_at).toISOString(), i: r.id }));
}

export async function getWebhook(db: Queryable, id: string) {
  return serializeWebhook(await mustFind(db, id));
}

export async function updateWebhook(db: Database, id: string, patch: z.infer<typeof updateWebhookSchema>, principal: Principal) {
  if (!Object.keys(patch).length) throw invalidRequest('nothing to change: give url, event_types, description or enabled');
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    const widens = patch.url !== undefined || patch.event_types !== undefined || (patch.enabled === true && !current.enabled);
    if (widens) await assertMayConfer(tx, principal, CONFERS, 'changing where the audit log goes');
    const row = await updateWebhookEndpointFields(tx, id, {
      url: patch.url, description: patch.description, eventTypes: patch.event_types, enabled: patch.enabled,
    });
    // Deliveries that waited while it was disabled go out now, each with the attempts it has left.
    if (patch.enabled === true && !current.enabled) await makeSubscriberDue(tx, WEBHOOK_CONSUMER, id);
    const type = patch.enabled === true && !current.enabled ? 'webhook.enabled' : patch.enabled === false && current.enabled ? 'webhook.disabled' : 'webhook.updated';
    await recordAudit(tx, {
      type, actor: principal.actor, target: { type: 'webhook', id },
      data: { fields: Object.keys(patch), url: row.url, event_types: row.event_types, ...(type === 'webhook.disabled' ? { reason: 'manual' } : {}) },
    });
    return serializeWebhook(row);
  });
}

/**
 * A new secret, shown once. The old one keeps signing beside it (Standard Webhooks carries several
 * signatures in one header) until previous_expires_in has passed, so receivers can switch over.
 */
export async function rotateWebhookSecret(db: Database, sealer: Sealer, id: string, input: z.infer<typeof rotateWebhookSecretSchema>, principal: Principal) {
  const secret = newSecret();
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    await assertMayConfer(tx, principal, CONFERS, 'a new secret for where the audit log goes');
    const keep = input.previous_expires_in > 0;
    const row = await replaceWebhookSecret(tx, id, {
      secretSealed: sealer.seal(secret, secretAad(id)),
      previousSealed: keep ? current.secret_sealed : null,
      previousExpiresAt: keep ? new Date(Date.now() + input.previous_expires_in * 1000) : null,
    });
    await recordAudit(tx, {
      type: 'webhook.secret_rotated', actor: principal.actor, target: { type: 'webhook', id },
      data: { previous_expires_at: iso(row.previous_expires_at) },
    });
    return { ...serializeWebhook(row), secret };
  });
}

/** Removes the endpoint, its waiting deliveries and their history. */
export async function deleteWebhook(db: Database, id: string, principal: Principal) {
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    await deleteSubscriberRows(tx, WEBHOOK_CONSUMER, id);
    await deleteWebhookEndpointRow(tx, id);
    await recordAudit(tx, { type: 'webhook.deleted', actor: principal.actor, target: { type: 'webhook', id }, data: { url: current.url } });
  });
}

export async function listDeliveries(db: Queryable, id: string, query: z.infer<typeof pageQuery>) {
  await mustFind(db, id);
  const limit = parseLimit(query.limit);
  const cursor = decodeCursor(query.cursor, { id: 'bigint' });
  const rows = await listDeliveryRows(db, WEBHOOK_CONSUMER, id, { beforeId: cursor?.id, limit: limit + 1 });
  return pageOf(rows, limit, serializeDelivery, (r) => ({ id: r.id }));
}
