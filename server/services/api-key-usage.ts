import type { Queryable } from '../db/database.js';
import type { Logger } from '../logger.js';
import { addUsage, type UsageBatch } from '../store/api-key-usage.js';

/** How often a node writes what it counted: a node that dies loses at most this long of counts. */
export const USAGE_FLUSH_MS = 5000;

/** The UTC day of a time, as the usage table keys it. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Counts API key use on this node in memory and writes it in batches, so that a request with a key
 * costs two map updates and never waits for a write. Every USAGE_FLUSH_MS (and at close) one
 * statement adds this node's counts to the shared rows (store/api-key-usage.ts); other nodes add
 * theirs, so the totals are the sum over nodes. A flush that fails is kept and tried again with the
 * next one; a node that crashes loses what it had not written, at most USAGE_FLUSH_MS of counts.
 */
export class ApiKeyUsage {
  private counts = new Map<string, { keyId: string; day: string; count: number }>();
  private addresses = new Map<string, { keyId: string; ip: string; at: Date }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Queryable,
    private readonly logger?: Logger,
    private readonly everyMs = USAGE_FLUSH_MS,
  ) {}

  /** One request made with the key, from this address (already normalised). */
  count(keyId: string, ip: string, at = new Date()): void {
    this.add(keyId, utcDay(at), 1);
    this.addresses.set(`${keyId} ${ip}`, { keyId, ip, at });
  }

  private add(keyId: string, day: string, n: number): void {
    const c = this.counts.get(`${keyId} ${day}`);
    if (c) c.count += n;
    else this.counts.set(`${keyId} ${day}`, { keyId, day, count: n });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
    // Counting must never keep a process alive on its own; close() writes the rest.
    this.timer.unref();
  }

  /**
   * Writes what was counted so far. Flushes run one after another, so a reader that flushes first
   * (GET /api-keys/{id}/usage) sees every request this node answered before it.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Stops the timer and writes the rest (at shutdown, before the database closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (!this.counts.size && !this.addresses.size) return;
    const batch: UsageBatch = { counts: [...this.counts.values()], addresses: [...this.addresses.values()] };
    this.counts = new Map();
    this.addresses = new Map();
    try {
      await addUsage(this.db, batch);
    } catch (err) {
      this.restore(batch);
      this.logger?.warn({ err: (err as Error).message }, 'could not write API key usage; retrying with the next flush');
    }
  }

  /** Puts a batch that could not be written back, under what was counted meanwhile. */
  private restore(batch: UsageBatch) {
    for (const c of batch.counts) this.add(c.keyId, c.day, c.count);
    for (const a of batch.addresses) {
      if (!this.addresses.has(`${a.keyId} ${a.ip}`)) this.addresses.set(`${a.keyId} ${a.ip}`, a);
    }
  }
}
