import type Provider from 'oidc-provider';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { queueLogout, settleLogout, takeDueLogouts } from '../services/backchannel-logouts.js';
import type { PendingLogout } from '../store/backchannel-logouts.js';

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0). oidc-provider knows which clients a
 * session signed in to and signs the logout token (§2.4: iss, aud, iat, jti, events, sub and, when
 * the client asks for it, sid); its Client#backchannelLogout posts it with a 2.5 s timeout. Sending
 * is ours: every logout token goes through one queue (migration 010), whether the library ends the
 * session (RP-initiated logout) or we do (deactivation, password change, deletion: endUserAccess),
 * so each is retried a bounded number of times and its outcome audited, and none is lost when a
 * node stops.
 */

type Send = (this: LogoutClient, sub: string, sid?: string) => Promise<void>;
interface LogoutClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout: Send;
}

const senders = new WeakMap<Provider, Send>();

/** Replaces the library's immediate send with a queued delivery (its own send is kept for the queue). */
export function queueBackchannelLogouts(provider: Provider, db: Database): void {
  const proto = provider.Client.prototype as unknown as LogoutClient;
  senders.set(provider, proto.backchannelLogout);
  proto.backchannelLogout = async function queueBackchannelLogout(this: LogoutClient, sub: string, sid?: string) {
    await queueLogout(db, { clientId: this.clientId, accountId: sub, sid: sid ?? null, reason: 'logout' });
  };
}

/** How often a node looks for due retries (and for deliveries whose notification it missed). */
const POLL_MS = 5000;

/**
 * Delivers queued logout tokens on this node: woken at once by the queue's notification (which
 * arrives through the node's change listener, server/store/cache.ts, as 'backchannel_logouts'), and
 * every POLL_MS for retries. Any node may take any delivery; the claim in takeDueLogouts keeps two from
 * taking the same one.
 */
export class BackchannelDelivery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: { db: Database; logger: Logger; provider: () => Provider }) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Runs a round now, or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.round()
      .catch((err) => this.deps.logger.warn({ err: err.message }, 'back-channel logout round failed; the next poll retries'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async round(): Promise<void> {
    for (;;) {
      const due = await takeDueLogouts(this.deps.db);
      if (!due.length) return;
      await Promise.all(due.map((p) => this.deliver(p)));
    }
  }

  private async deliver(p: PendingLogout): Promise<void> {
    const { db, logger } = this.deps;
    const provider = this.deps.provider();
    const send = senders.get(provider);
    const client = (await provider.Client.find(p.client_id).catch(() => undefined)) as unknown as LogoutClient | undefined;
    if (!send || !client?.backchannelLogoutUri) {
      // Deleted, suspended, or no longer asking to be told: there is nobody to deliver to.
      await settleLogout(db, p, { delivered: false, error: 'client has no backchannel_logout_uri now', final: true });
      return;
    }
    try {
      await send.call(client, p.account_id, p.sid ?? undefined);
      await settleLogout(db, p, { delivered: true });
    } catch (err) {
      const error = describe(err);
      const outcome = await settleLogout(db, p, { delivered: false, error });
      logger.warn({ client: p.client_id, attempt: p.attempts, outcome, err: error }, 'back-channel logout delivery failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}

/** What an audit record says of a failure: the status or the kind of network error, never a body. */
function describe(err: unknown): string {
  const e = err as { message?: string; name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timed out';
  const code = e?.cause?.code;
  return (code ? `${code}: ` : '') + String(e?.message ?? err).slice(0, 200);
}
