import type Provider from 'oidc-provider';
import type { JWK } from 'jose';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../services/audit.js';
import { type RotationResult, rotateSigningKeys, rotationDue } from '../services/signing-keys.js';
import type { KeyRing } from '../services/keyring.js';

/**
 * oidc-provider takes its keys when it is constructed, so each node reloads the keys every minute
 * (and exactly when a key activates or leaves the JWKS) and builds a new provider instance when
 * what it should publish or sign with has changed. The provider keeps no state of its own (all of
 * it is in the stores), so swapping instances between two requests is safe. Rotation itself is
 * services/signing-keys.ts.
 */

/** How often each node reloads keys and checks whether a scheduled rotation is due. */
export const KEY_CHECK_INTERVAL_MS = 60_000;

export interface KeyMaintenanceDeps {
  db: Database;
  sealer: Sealer;
  keys: KeyRing;
  logger: Logger;
  /** Seconds a new key is published before it signs (KEY_ACTIVATION_DELAY). */
  activationDelay: number;
  /** KEY_ROTATION_DAYS; 0 turns scheduled rotation off. */
  rotationDays: number;
  buildProvider(jwks: { keys: JWK[] }): Provider;
  /** Defaults to KEY_CHECK_INTERVAL_MS; tests shorten it. */
  checkIntervalMs?: number;
}

/**
 * One node's signing-key housekeeping: holds the current oidc-provider instance, reloads keys on a
 * timer, rebuilds the provider when its JWKS should change, and rotates when rotation is due.
 * load() must run before the first use of `current`.
 */
export class KeyMaintenance {
  private provider: Provider | undefined;
  private builtWith = '';
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private running: Promise<void> | undefined;
  private checkIntervalMs: number;

  constructor(private readonly deps: KeyMaintenanceDeps) {
    this.checkIntervalMs = deps.checkIntervalMs ?? KEY_CHECK_INTERVAL_MS;
  }

  /** The provider that serves requests now. Read it per request: it is replaced on key changes. */
  get current(): Provider {
    if (!this.provider) throw new Error('KeyMaintenance.reload() has not run');
    return this.provider;
  }

  /**
   * Reloads the keys from the database and rebuilds the provider if what it publishes or signs
   * with has changed. Returns whether it rebuilt.
   */
  async reload(): Promise<boolean> {
    await this.deps.keys.load();
    const rebuilt = this.rebuildIfChanged();
    this.schedule();
    return rebuilt;
  }

  private rebuildIfChanged(): boolean {
    const now = new Date();
    const fingerprint = this.deps.keys.fingerprint(now);
    if (this.provider && fingerprint === this.builtWith) return false;
    const first = !this.provider;
    this.provider = this.deps.buildProvider(this.deps.keys.providerJwks(now));
    this.builtWith = fingerprint;
    if (!first) this.deps.logger.info({ kids: fingerprint.split(' ') }, 'signing keys changed; provider rebuilt');
    return true;
  }

  /** Rotates now (POST /keys/rotate, the CLI) and makes this node use the result at once. */
  async rotate(options: { activateIn?: number; actor: Actor }): Promise<RotationResult> {
    const result = await rotateSigningKeys(this.deps.db, this.deps.sealer, {
      activateIn: options.activateIn ?? this.deps.activationDelay,
      actor: options.actor,
      reason: 'manual',
    });
    await this.reload();
    return result!;
  }

  /** One scheduled pass: rotate if due, then reload. Exposed for tests; the timer calls it. */
  async tick(): Promise<void> {
    // A cheap unlocked look first: key generation and the lock only when a rotation seems due.
    if (this.deps.rotationDays > 0 && (await rotationDue(this.deps.db, this.deps.rotationDays))) {
      const result = await rotateSigningKeys(this.deps.db, this.deps.sealer, {
        activateIn: this.deps.activationDelay,
        actor: { type: 'system' },
        reason: 'scheduled',
        onlyIfOlderThanDays: this.deps.rotationDays,
      }).catch((err) => {
        this.deps.logger.warn({ err: err.message }, 'scheduled signing-key rotation failed');
        return undefined;
      });
      if (result) {
        this.deps.logger.info({ kids: result.keys.map((k) => k.kid), activates_at: result.keys[0]?.activates_at }, 'signing keys rotated on schedule');
      }
    }
    await this.reload();
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Changes how often this node checks (tests use a short interval); replans the next pass. */
  setCheckInterval(ms: number): void {
    this.checkIntervalMs = ms;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * The next pass: in a minute, or sooner when a key activates or leaves the JWKS before that, so
   * that the switch happens on time rather than up to a minute late.
   */
  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const interval = this.checkIntervalMs;
    const now = Date.now();
    const next = this.deps.keys.nextChange(new Date(now));
    const delay = next ? Math.min(interval, Math.max(next.getTime() - now + 20, 20)) : interval;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((err) => this.deps.logger.warn({ err: err.message }, 'signing-key reload failed; keeping the current keys'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, delay);
    // Housekeeping never keeps the process alive on its own.
    this.timer.unref();
  }
}
