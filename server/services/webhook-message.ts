import { Webhook } from 'standardwebhooks';
import type { AuditRow } from '../store/audit.js';
import { auditView } from './audit.js';

/**
 * One Standard Webhooks message (https://www.standardwebhooks.com, "Webhook Message"): a JSON body
 * `{ type, timestamp, data }` where data is the audit event as GET /audit-events shows it, and the
 * headers webhook-id (the same on every attempt, for the receiver's deduplication), webhook-timestamp
 * (this attempt, so a receiver can refuse replays) and webhook-signature, made by the
 * `standardwebhooks` library with every live secret (after a rotation, old and new, space-separated).
 */
export function webhookMessage(id: string, event: AuditRow, secrets: readonly string[], now = new Date()) {
  const body = JSON.stringify({ type: event.type, timestamp: new Date(event.occurred_at).toISOString(), data: auditView(event) });
  const signature = secrets.map((s) => new Webhook(s).sign(id, now, body)).join(' ');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Gatehouse-Webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}
