import { createHash } from 'node:crypto';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ProtectionConfig } from '../../config.js';
import { limitAddress } from './address.js';
import { FailureLimit, blockAt } from './failure-limit.js';
import { guarded, type LimiterStore } from './limiter-store.js';

export interface LoginFailure {
  /** Seconds before this account may be tried again from this address (0: at once). */
  retryAfter: number;
  /** This failure brought the account to the longest wait: a temporary lockout (audited). */
  locked: boolean;
}

/**
 * Sign-in throttling (NIST SP 800-63B §5.2.2, OWASP ASVS 2.2.1), after Keycloak's brute-force
 * detection: failures are counted per account and address, and once they reach loginMaxFailures each
 * further one adds loginWaitIncrement to the wait, up to loginMaxWait, which is the temporary lockout.
 * Counting per address as well as per account means that an attacker elsewhere cannot lock the owner
 * out, while a single address guessing across many accounts is stopped by the per-address limit.
 *
 * An unknown email is counted exactly like a known one (under a digest of what was typed), so the
 * answers never tell whether an account exists.
 */
export class LoginThrottle {
  private readonly perAccount: FailureLimit;
  private readonly perAddress: FailureLimit;
  /** Users whose account reached the lockout from some address: what administrators see and lift. */
  private readonly lockouts: RateLimiterAbstract;

  constructor(
    private readonly store: LimiterStore,
    private readonly redis: boolean,
    private readonly config: ProtectionConfig,
  ) {
    const { loginMaxFailures: max, loginWaitIncrement: step, loginMaxWait: longest } = config;
    this.perAccount = new FailureLimit(store, redis, {
      name: 'login-account',
      windowSeconds: config.loginFailureReset,
      waitAfter: (n) => (n >= max ? Math.min(step * (n - max + 1), longest) : 0),
    });
    this.perAddress = new FailureLimit(store, redis, {
      name: 'login-address',
      windowSeconds: config.loginAddressWindow,
      waitAfter: blockAt(config.loginAddressMaxFailures, config.blockSeconds),
    });
    this.lockouts = store.limiter('login-locked', 1, 1);
  }

  /** The counting key of an account: its id, or a digest of an email that names no account. */
  static account(userId: string | undefined, login: string): string {
    return userId ?? `unknown:${createHash('sha256').update(login.trim().toLowerCase()).digest('base64url').slice(0, 32)}`;
  }

  /**
   * The guesses of one known person from one address, however they guess (a sign-in, a second
   * factor, their current password on /account, a code confirming a new authenticator): all count
   * against the same limits, keyed the same way.
   */
  of(user: { id: string; email: string }, ip: string) {
    const account = LoginThrottle.account(user.id, user.email);
    const address = limitAddress(ip);
    return {
      retryAfter: () => this.retryAfter(account, address),
      failed: () => this.failed(account, address, user.id),
      succeeded: () => this.succeeded(account, address),
    };
  }

  /** The limits sign-ins are counted against (for the metrics). */
  get limits(): readonly FailureLimit[] {
    return [this.perAccount, this.perAddress];
  }

  /** Seconds before this account may be tried from this address; 0 when it may be tried now. */
  async retryAfter(account: string, ip: string): Promise<number> {
    const [a, b] = await Promise.all([this.perAccount.retryAfter(`${account}|${ip}`), this.perAddress.retryAfter(ip)]);
    return Math.max(a, b);
  }

  async failed(account: string, ip: string, userId: string | undefined): Promise<LoginFailure> {
    const [a, b] = await Promise.all([this.perAccount.fail(`${account}|${ip}`), this.perAddress.fail(ip)]);
    const locked = Boolean(userId) && a.retryAfter >= this.config.loginMaxWait;
    if (locked) await guarded(this.redis, () => this.lockouts.block(userId!, this.config.loginMaxWait));
    return { retryAfter: Math.max(a.retryAfter, b.retryAfter), locked };
  }

  /** A success forgets the failures of this account from this address (not those from elsewhere). */
  async succeeded(account: string, ip: string): Promise<void> {
    await this.perAccount.reset(`${account}|${ip}`);
  }

  /** When the latest lockout of the user ends, or null when there is none. */
  async lockedUntil(userId: string): Promise<Date | null> {
    const res = await guarded(this.redis, () => this.lockouts.get(userId));
    return res && res.consumedPoints > 1 && res.msBeforeNext > 0 ? new Date(Date.now() + res.msBeforeNext) : null;
  }

  /** An administrator's unlock: the lockout and the user's counts from every address are forgotten. */
  async unlock(userId: string): Promise<void> {
    await guarded(this.redis, async () => {
      await this.lockouts.delete(userId);
      for (const name of this.perAccount.names) await this.store.forget(name, `${userId}|`);
    });
  }
}
