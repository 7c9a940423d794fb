import type { Redis } from 'ioredis';
import type { ProtectionConfig } from '../../config.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import { AuditFolding } from './audit-folding.js';
import { FailureLimit, blockAt } from './failure-limit.js';
import { limiterStore } from './limiter-store.js';
import { LoginThrottle } from './login-throttle.js';
import { TooManyAttemptsError } from './errors.js';
import { PollPace } from './poll-pace.js';

export { TooManyAttemptsError } from './errors.js';
export { LoginThrottle } from './login-throttle.js';

/** Wrong user codes from one address, within an hour, before the /device page refuses it. */
export const USER_CODE_MAX_FAILURES = 10;

/** Seconds between two polls of one device code: oidc-provider's device authorization response says 5. */
export const DEVICE_POLL_INTERVAL = 5;

/** A good token request trusts a "not refused" answer for this long (see FailureLimit.clearCacheMs). */
const TOKEN_PATH_CACHE_MS = 1000;

/** Requests for a link, per recipient and per client address, within an hour. */
const MAIL_WINDOW = 3600;
const MAIL_PER_RECIPIENT = 5;
const MAIL_PER_ADDRESS = 20;

/**
 * Attack protection of one node (README "Attack protection"): the limits on guessing, counted in
 * the store every node shares, and the folding of repeated failures in the audit log.
 */
export interface Protection {
  login: LoginThrottle;
  /** Failed client authentication per client_id and address (token, introspection, revocation). */
  clientAuth: FailureLimit;
  /** Failed client authentication per address. */
  clientAuthAddress: FailureLimit;
  /** Failed credentials per address: API keys and tokens at introspection, token exchange, /api/v1. */
  credentials: FailureLimit;
  /** Wrong device-flow user codes per address (RFC 8628 §5.1): the /device page. */
  userCodes: FailureLimit;
  /**
   * Links sent by email (password reset, verification) per address they go to: a mailbox is not
   * flooded, and nobody learns anything by asking for a stranger's (OWASP ASVS 2.5.2).
   */
  mailPerRecipient: FailureLimit;
  /** The same per client address, whatever the recipients. */
  mailPerAddress: FailureLimit;
  /** How often each device code may be polled (RFC 8628 §3.5). */
  devicePolls: PollPace;
  audit: AuditFolding;
  /** Every limit above, for the metrics (each counts its hits and refusals). */
  readonly limits: readonly FailureLimit[];
  /**
   * Rejects with 429 if any of the (limit, key) pairs is refused now. Nothing to wait for (undefined)
   * when this node already knows every key is clear, as on nearly every good token request.
   */
  refuseIfBlocked(checks: [FailureLimit, string][], what?: string): Promise<void> | undefined;
  close(): Promise<void>;
}

export function createProtection(db: Database, redis: Redis | undefined, issuer: string, config: ProtectionConfig, logger: Logger, redisPrefix?: string): Protection {
  const store = limiterStore(db, redis, issuer, redisPrefix);
  const r = Boolean(redis);
  const login = new LoginThrottle(store, r, config);
  const protection: Omit<Protection, 'limits'> = {
    login,
    clientAuth: new FailureLimit(store, r, {
      name: 'client-auth',
      windowSeconds: config.clientAuthWindow,
      waitAfter: blockAt(config.clientAuthMaxFailures, config.blockSeconds),
      clearCacheMs: TOKEN_PATH_CACHE_MS,
    }),
    clientAuthAddress: new FailureLimit(store, r, {
      name: 'client-auth-address',
      windowSeconds: config.clientAuthWindow,
      waitAfter: blockAt(config.clientAuthAddressMaxFailures, config.blockSeconds),
      clearCacheMs: TOKEN_PATH_CACHE_MS,
    }),
    credentials: new FailureLimit(store, r, {
      name: 'credentials',
      windowSeconds: config.credentialWindow,
      waitAfter: blockAt(config.credentialMaxFailures, config.blockSeconds),
      clearCacheMs: TOKEN_PATH_CACHE_MS,
    }),
    // RFC 8628 §5.1: a user code has about 34 bits (8 base-20 characters) and lives 10 minutes; ten
    // wrong ones an hour per address leave a guess at most one chance in a hundred million.
    userCodes: new FailureLimit(store, r, {
      name: 'user-code',
      windowSeconds: 3600,
      waitAfter: blockAt(USER_CODE_MAX_FAILURES, config.blockSeconds),
    }),
    mailPerRecipient: new FailureLimit(store, r, {
      name: 'mail-recipient',
      windowSeconds: MAIL_WINDOW,
      waitAfter: blockAt(MAIL_PER_RECIPIENT, MAIL_WINDOW),
    }),
    mailPerAddress: new FailureLimit(store, r, {
      name: 'mail-address',
      windowSeconds: MAIL_WINDOW,
      waitAfter: blockAt(MAIL_PER_ADDRESS, MAIL_WINDOW),
    }),
    devicePolls: new PollPace(store, r, DEVICE_POLL_INTERVAL),
    audit: new AuditFolding(db, store, r, config.auditFoldWindow, logger),
    refuseIfBlocked(checks, what) {
      if (checks.every(([limit, key]) => limit.knownClear(key))) return undefined;
      return Promise.all(checks.map(([limit, key]) => limit.retryAfter(key))).then((waits) => {
        const wait = Math.max(0, ...waits);
        if (wait > 0) throw new TooManyAttemptsError(wait, what);
      });
    },
    async close() {
      await this.audit.flush();
    },
  };
  const limits = [...login.limits, protection.clientAuth, protection.clientAuthAddress, protection.credentials, protection.userCodes, protection.mailPerRecipient, protection.mailPerAddress];
  return Object.assign(protection, { limits });
}
