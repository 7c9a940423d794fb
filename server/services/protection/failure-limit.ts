import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { digest } from '../../crypto/tokens.js';
import { guarded, type LimiterStore } from './limiter-store.js';

export interface FailureLimitOptions {
  /** Names the counters in the store (and in Redis keys / rate_limits rows). */
  name: string;
  /** How long a count lasts from its first failure, in seconds. */
  windowSeconds: number;
  /** Seconds to refuse after the n-th failure within the window; 0 lets the next attempt through. */
  waitAfter(failures: number): number;
  /**
   * How long this process may trust "not refused" for a key, in ms. Checks on the token path would
   * otherwise cost a store round trip per good request; with it, good traffic costs one lookup per
   * client and address per interval. A refusal made on this node applies at once, one made on
   * another node within this interval.
   */
  clearCacheMs?: number;
}

/** Blocks hold one point more than their limiter's points (rate-limiter-flexible's block()). */
const BLOCK_POINTS = 1;
const CACHE_CAP = 10_000;

/** Keys hold what a caller sent (a client_id); long ones are digested to fit rate_limits.key. */
const stored = (key: string) => (key.length <= 160 ? key : `#${digest(key)}`);

/**
 * Counts failures per key and refuses the key for a while once waitAfter says so. Only failures are
 * counted: a good request at most reads whether it is refused.
 */
export class FailureLimit {
  /** Times this node imposed a refusal (the limit was reached), since start; read by the metrics. */
  hits = 0;
  /** Checks on this node answered "refused", since start. */
  refusals = 0;
  private readonly counter: RateLimiterAbstract;
  private readonly blocks: RateLimiterAbstract;
  private readonly clear = new Map<string, number>();
  /** Store reads under way, by key: concurrent checks of one key share one read. */
  private readonly reading = new Map<string, Promise<number>>();
  /**
   * Moves when this node starts and finishes storing a refusal. A store read that overlapped either
   * may hold the answer from before the refusal: it is used once, never remembered.
   */
  private refusing = 0;

  constructor(
    store: LimiterStore,
    private readonly redis: boolean,
    private readonly options: FailureLimitOptions,
  ) {
    this.counter = store.limiter(options.name, 1, options.windowSeconds);
    this.blocks = store.limiter(`${options.name}-block`, BLOCK_POINTS, 1);
  }

  /** Whether this node may answer "not refused" for the key without asking the store (clearCacheMs). */
  knownClear(key: string): boolean {
    return (this.clear.get(key) ?? 0) > Date.now();
  }

  /** Seconds the key is still refused for; 0 when it may try. */
  async retryAfter(key: string): Promise<number> {
    const cacheMs = this.options.clearCacheMs ?? 0;
    if (cacheMs && this.knownClear(key)) return 0;
    // When a known-clear answer lapses, every request then in flight for the key would read the
    // store at once; with clearCacheMs they wait for the first one's answer instead.
    let reading = cacheMs ? this.reading.get(key) : undefined;
    if (!reading) {
      reading = this.readRefusal(key, cacheMs);
      if (cacheMs) {
        this.reading.set(key, reading);
        const shared = reading;
        // Only its own entry: a refusal may have dropped it and a newer read taken its place.
        void shared.finally(() => this.reading.get(key) === shared && this.reading.delete(key)).catch(() => undefined);
      }
    }
    const wait = await reading;
    if (wait) this.refusals++;
    return wait;
  }

  private async readRefusal(key: string, cacheMs: number): Promise<number> {
    const refusingBefore = this.refusing;
    const res = await guarded(this.redis, () => this.blocks.get(stored(key)));
    const wait = res && res.consumedPoints > BLOCK_POINTS ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
    if (cacheMs && !wait && this.refusing === refusingBefore) {
      if (this.clear.size >= CACHE_CAP) this.clear.clear();
      this.clear.set(key, Date.now() + cacheMs);
    }
    return wait;
  }

  /** Counts one failure; returns the failures so far and how long the key is now refused for. */
  async fail(key: string): Promise<{ failures: number; retryAfter: number }> {
    const res = await guarded(this.redis, () => this.counter.penalty(stored(key), 1));
    const failures = res.consumedPoints;
    const retryAfter = this.options.waitAfter(failures);
    if (retryAfter > 0) {
      this.hits++;
      // "A refusal made on this node applies at once" (clearCacheMs): from here on, nothing read
      // before it is stored is remembered or shared with later checks.
      this.refusing++;
      this.clear.delete(key);
      this.reading.delete(key);
      try {
        await guarded(this.redis, () => this.blocks.block(stored(key), retryAfter));
      } finally {
        this.refusing++;
        this.clear.delete(key);
        this.reading.delete(key);
      }
    }
    return { failures, retryAfter };
  }

  /** Forgets the key's failures and lifts its refusal. */
  async reset(key: string): Promise<void> {
    await guarded(this.redis, () => Promise.all([this.counter.delete(stored(key)), this.blocks.delete(stored(key))]));
  }

  /** The limit's name (client-auth, login-account, ...): a fixed word, fit for a metric label. */
  get name(): string {
    return this.options.name;
  }

  /** The store names of this limit's counters (for forgetting keys by prefix). */
  get names(): string[] {
    return [this.options.name, `${this.options.name}-block`];
  }
}

/** Refuse for blockSeconds once failures reach max within the window. */
export const blockAt = (max: number, blockSeconds: number) => (failures: number) => (failures >= max ? blockSeconds : 0);
