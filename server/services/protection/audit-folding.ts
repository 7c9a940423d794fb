import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import { type AuditEvent, recordAudit } from '../audit.js';
import { guarded, type LimiterStore } from './limiter-store.js';

/**
 * Keeps the audit log's signal under attack: repeated failures of one kind and reason from one source
 * (address and target) within a window become two rows at most, the first failure at once and, when the
 * window closes, one summary with the count of the others. Without it every guess would add a row
 * that can never be deleted (audit_events is append-only), so an attacker would decide its size.
 *
 * The audit table refuses UPDATE, so a count cannot grow in place; instead the window's count is kept
 * in the shared limiter store (Redis or the rate_limits table), where every node adds to it, and the
 * node that wrote the window's first row writes its summary. Windows are aligned to the clock so that
 * every node agrees on them. If that node stops first it writes its summaries on the way out; if it
 * dies, a summary is lost but the first row is there.
 *
 * Only failures come through here: successes and administrative changes are recorded one by one.
 */
export class AuditFolding {
  private readonly counts: RateLimiterAbstract;
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; write: () => Promise<void> }>();

  constructor(
    private readonly db: Database,
    store: LimiterStore,
    private readonly redis: boolean,
    private readonly windowSeconds: number,
    private readonly logger: Logger,
  ) {
    // Counts outlive their window so the summary can still read them.
    this.counts = store.limiter('audit-fold', 1, Math.max(2 * windowSeconds, 60));
  }

  /** Records a failure, folded with the same failures from the same source in this window. */
  async failure(event: AuditEvent): Promise<void> {
    if (this.windowSeconds === 0) return recordAudit(this.db, event);
    const windowMs = this.windowSeconds * 1000;
    const start = Math.floor(Date.now() / windowMs) * windowMs;
    // A source is the address and the target; a different reason (a wrong secret, then a suspended
    // client) is a different story and gets its own first row. Reasons are ours, never a caller's text.
    const why = [event.data?.reason, event.data?.detail].map((v) => (typeof v === 'string' ? v : '-'));
    const key = [event.type, event.actor.ip ?? '-', event.target?.id ?? event.actor.id ?? '-', ...why, start].join('|');
    const res = await guarded(this.redis, () => this.counts.penalty(key, 1));
    if (res.consumedPoints !== 1) return;
    await recordAudit(this.db, event);
    const write = async () => {
      this.pending.delete(key);
      const now = await guarded(this.redis, () => this.counts.get(key));
      const repeated = (now?.consumedPoints ?? 1) - 1;
      if (repeated < 1) return;
      await recordAudit(this.db, {
        ...event,
        data: {
          ...event.data,
          repeated,
          window_start: new Date(start).toISOString(),
          window_end: new Date(start + windowMs).toISOString(),
        },
      });
    };
    // A second after the window closes, so failures counted at its very end on other nodes are in.
    const timer = setTimeout(() => {
      write().catch((err) => this.logger.warn({ err: (err as Error).message, event: event.type }, 'could not write a folded audit summary'));
    }, start + windowMs + 1000 - Date.now());
    timer.unref();
    this.pending.set(key, { timer, write });
  }

  /** Writes the summaries of open windows now (on shutdown), with the counts so far. */
  async flush(): Promise<void> {
    const open = [...this.pending.values()];
    for (const p of open) clearTimeout(p.timer);
    await Promise.allSettled(open.map((p) => p.write()));
  }
}
