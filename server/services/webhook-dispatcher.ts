import { randomUUID } from 'node:crypto';
import { OutboundRefusedError, fetchOutbound } from '../net/outbound.js';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { WebhookConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { type ClaimedRow, claimDue, deleteFinishedRows, finishClaim, insertAttempt, type Outcome, releaseClaims, secondsUntilDue } from '../store/outbox.js';
import { disableFailingWebhook, findWebhookEndpointRow, markWebhookFailing, markWebhookSucceeded, type WebhookEndpointRow } from '../store/webhooks.js';
import { recordAudit, SYSTEM } from './audit.js';
import { webhookMessage } from './webhook-message.js';
import { messageId, secretAad, WEBHOOK_CONSUMER } from './webhooks.js';

/** Rows one claim takes; they are sent at once, side by side. */
const BATCH = 16;
/** The longest sleep between looks at the outbox, when no notification wakes the dispatcher. */
const MAX_IDLE_MS = 30_000;
/** Errors are stored to show people; a receiver's long message is cut. */
const ERROR_MAX = 300;
/** Delivered and given-up deliveries, with their attempts, are listed this long and then forgotten. */
const KEEP_DAYS = 30;
/** How often a node forgets them (each node does; the DELETE is idempotent). */
const FORGET_EVERY_MS = 3600_000;

interface AttemptResult {
  status: number | null;
  error: string | null;
  startedAt: Date;
  durationMs: number;
}

/**
 * Sends the webhook rows of the outbox (store/outbox.ts), on every node. Each round claims the due
 * rows under a lease, POSTs them, and records each attempt and its outcome: delivered on a 2xx,
 * otherwise retried after the next of WEBHOOK_RETRY_DELAYS, and given up when they run out. An
 * endpoint whose failures lasted that whole schedule (no success since the first of them) is
 * disabled, audited as webhook.disabled, and shown so in the console.
 *
 * The lease is WEBHOOK_TIMEOUT plus a margin: longer than any attempt, so no two nodes send one row at
 * the same time. A node that dies mid-delivery leaves its lease to run out, and another node (or
 * this one, restarted) sends the row again: at least once, with the same webhook-id. The embedded
 * database belongs to one process, so at start every lease there is a dead process's and is
 * released at once.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Map<string, AbortController>();
  private readonly leaseSeconds: number;
  private forgotAt = 0;

  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    /** OUTBOUND_PRIVATE_ADDRESSES: endpoints may be loopback or private addresses (server/net/outbound.ts). */
    private readonly allowPrivateAddresses = false,
  ) {
    this.leaseSeconds = config.timeout + 45;
  }

  async start(): Promise<void> {
    if (this.db.kind === 'embedded') {
      const released = await releaseClaims(this.db, WEBHOOK_CONSUMER);
      if (released) this.logger.info({ released }, 'webhook deliveries left by a stopped process are due again');
    }
    this.wake();
  }

  /** Something may be due (a notification from migration 013's triggers): look now. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.round()
      .catch((err) => this.logger.warn({ err: (err as Error).message }, 'webhook dispatch failed; retrying soon'))
      .then((nextMs) => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          // After an error (the database is down, say), look again in a few seconds.
          this.timer = setTimeout(() => this.wake(), nextMs ?? 5000);
          this.timer.unref();
        }
      });
  }

  /**
   * Stops claiming, abandons the attempts in flight and hands their rows back uncounted, so a rolling
   * restart neither waits for slow receivers nor leaves deliveries to wait out their lease.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const leases = [...this.inFlight.keys()];
    for (const c of this.inFlight.values()) c.abort();
    await this.running;
    if (leases.length) await releaseClaims(this.db, WEBHOOK_CONSUMER, leases).catch(() => undefined);
  }

  /** Claims and sends until nothing is due; returns how long to sleep. */
  private async round(): Promise<number> {
    for (;;) {
      if (this.stopped) return MAX_IDLE_MS;
      const leaseId = randomUUID();
      const claimed = await claimDue(this.db, WEBHOOK_CONSUMER, { limit: BATCH, leaseSeconds: this.leaseSeconds, leaseId });
      if (!claimed.length) break;
      const controller = new AbortController();
      this.inFlight.set(leaseId, controller);
      try {
        // Each on its own: one that fails to record (the database went away) leaves its lease to run out
        // without cutting the others short.
        const results = await Promise.allSettled(claimed.map((row) => this.deliver(row, controller.signal)));
        const failed = results.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      } finally {
        this.inFlight.delete(leaseId);
      }
    }
    if (Date.now() - this.forgotAt > FORGET_EVERY_MS) {
      this.forgotAt = Date.now();
      await deleteFinishedRows(this.db, WEBHOOK_CONSUMER, KEEP_DAYS);
    }
    const seconds = await secondsUntilDue(this.db, WEBHOOK_CONSUMER);
    return seconds === null ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(50, Math.ceil(seconds * 1000)));
  }

  private secretsOf(endpoint: WebhookEndpointRow): string[] {
    const aad = secretAad(endpoint.id);
    const secrets = [this.sealer.open(endpoint.secret_sealed, aad)];
    if (endpoint.previous_secret_sealed && endpoint.previous_expires_at && new Date(endpoint.previous_expires_at).getTime() > Date.now()) {
      secrets.push(this.sealer.open(endpoint.previous_secret_sealed, aad));
    }
    return secrets;
  }

  private async deliver(row: ClaimedRow, stopping: AbortSignal): Promise<void> {
    const endpoint = await findWebhookEndpointRow(this.db, row.subscriber);
    if (!endpoint?.enabled) {
      // Disabled or deleted since the claim: the row waits (or went with its endpoint), uncounted.
      await releaseClaims(this.db, WEBHOOK_CONSUMER, [row.lease_id]);
      return;
    }
    const result = await this.post(endpoint, row, stopping);
    if (stopping.aborted && result.status === null) return; // stop() hands the row back
    await this.db.transaction(async (tx) => {
      await insertAttempt(tx, { outboxId: row.id, attempt: row.attempts, ...result });
      const ok = result.status !== null && result.status >= 200 && result.status < 300;
      const retries = this.config.retryDelays;
      const outcome: Outcome = ok
        ? { state: 'delivered' }
        : row.attempts <= retries.length
          ? { state: 'pending', retryInSeconds: jitter(retries[row.attempts - 1]) }
          : { state: 'failed' };
      // Our lease ran out and another node has the row: what it does decides; this attempt stays on record.
      if (!(await finishClaim(tx, row.id, row.lease_id, outcome))) return;
      if (ok) return markWebhookSucceeded(tx, endpoint.id);
      await markWebhookFailing(tx, endpoint.id);
      if (outcome.state === 'failed' && (await disableFailingWebhook(tx, endpoint.id))) {
        this.logger.warn({ webhook: endpoint.id }, 'webhook endpoint disabled: its deliveries failed for a whole retry schedule');
        await recordAudit(tx, {
          type: 'webhook.disabled', actor: SYSTEM, target: { type: 'webhook', id: endpoint.id },
          data: { reason: 'failing', url: endpoint.url, last_status: result.status, last_error: result.error },
        });
      }
    });
  }

  /** One POST: its status, or why there was none. Redirects are not followed (a 3xx is a failure). */
  private async post(endpoint: WebhookEndpointRow, row: ClaimedRow, stopping: AbortSignal): Promise<AttemptResult> {
    const startedAt = new Date();
    const started = performance.now();
    const done = (status: number | null, error: string | null): AttemptResult => ({
      status, error: error && error.slice(0, ERROR_MAX), startedAt, durationMs: Math.round(performance.now() - started),
    });
    try {
      const message = webhookMessage(messageId(row.id), row.event, this.secretsOf(endpoint), startedAt);
      const response = await fetchOutbound(
        endpoint.url,
        {
          method: 'POST',
          headers: message.headers,
          body: message.body,
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(this.config.timeout * 1000), stopping]),
        },
        this.allowPrivateAddresses,
      );
      // Only the status counts; the body is not read.
      await response.body?.cancel().catch(() => undefined);
      return done(response.status, response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`);
    } catch (err) {
      if (err instanceof OutboundRefusedError) return done(null, err.message);
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError') return done(null, `no answer within ${this.config.timeout} s`);
      return done(null, e.cause?.code ?? e.cause?.message ?? e.message);
    }
  }
}

/** ±10%, so that endpoints that failed together (an outage) are not all retried in the same second. */
function jitter(seconds: number): number {
  return seconds * (0.9 + Math.random() * 0.2);
}
