import { createHash } from 'node:crypto';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { guarded, type LimiterStore } from './limiter-store.js';

/**
 * RFC 8628 §3.5: a device polls the token endpoint no more often than the interval it was given.
 * One point per device code per interval, in the store every node shares, so polling several nodes
 * in turn gains nothing. Keyed by a digest: the device code is a bearer value.
 */
export class PollPace {
  private readonly limiter: RateLimiterAbstract;
  /** slow_down answers given per device code, over the longest a device code lives. */
  private readonly slowDowns: RateLimiterAbstract;

  constructor(store: LimiterStore, private readonly redis: boolean, readonly intervalSeconds: number, codeLifetimeSeconds = 1800) {
    this.limiter = store.limiter('device-poll', 1, intervalSeconds);
    this.slowDowns = store.limiter('device-slow-down', 1_000_000, codeLifetimeSeconds);
  }

  /**
   * Records a poll; true when it came sooner than the device's interval after the previous one.
   * Each slow_down adds 5 seconds to that interval "for this and all subsequent requests" (RFC 8628
   * §3.5): the wait before the next poll is counted from this one, at the longer interval.
   */
  async tooSoon(deviceCode: string): Promise<boolean> {
    const key = createHash('sha256').update(deviceCode).digest('base64url');
    return guarded(this.redis, async () => {
      const early = await this.limiter.consume(key, 1).then(
        () => false,
        (res) => {
          if (res instanceof RateLimiterRes) return true;
          throw res;
        },
      );
      const slowed = early ? (await this.slowDowns.consume(key, 1)).consumedPoints : ((await this.slowDowns.get(key))?.consumedPoints ?? 0);
      if (slowed > 0) await this.limiter.block(key, this.intervalSeconds + 5 * slowed);
      return early;
    });
  }
}
