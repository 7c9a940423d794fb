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

  constructor(store: LimiterStore, private readonly redis: boolean, readonly intervalSeconds: number) {
    this.limiter = store.limiter('device-poll', 1, intervalSeconds);
  }

  /** Records a poll; true when it came sooner than the interval after the previous one. */
  async tooSoon(deviceCode: string): Promise<boolean> {
    const key = createHash('sha256').update(deviceCode).digest('base64url');
    return guarded(this.redis, () =>
      this.limiter.consume(key, 1).then(
        () => false,
        (res) => {
          if (res instanceof RateLimiterRes) return true;
          throw res;
        },
      ),
    );
  }
}
