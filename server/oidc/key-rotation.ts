import type Provider from 'oidc-provider';
import type { JWK } from 'jose';
import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { Logger } from '../logger.js';
import { type Actor, recordAudit } from '../services/audit.js';
import type { KeyInfo, KeyStatus, RotationResult } from '../services/signing-key-schema.js';
import {
  KEYS_LOCK,
  KEY_FOR_ALG,
  PUBLISHED_AFTER_RETIREMENT_SECONDS,
  type GeneratedKey,
  type SigningAlg,
  generateSigningKey,
  storeSigningKey,
} from '../store/signing-keys.js';
import type { KeyRing } from './keyring.js';

/**
 * Signing-key rotation (RFC 7517 §5 key sets; OpenID Connect Core §10.1.1 on rotating signing keys).
 *
 * A rotation adds one new key per key type. The new key is published in the JWKS at once but only
 * starts signing at activates_at, so every verifier can have fetched it before it sees a token
 * signed with it. The key it replaces gets retired_at = the new key's activates_at (it signs until
 * then) and stays published until every token it signed has expired.
 *
 * oidc-provider takes its keys when it is constructed, so each node reloads the keys every minute
 * (and exactly when a key activates or leaves the JWKS) and builds a new provider instance when
 * what it should publish or sign with has changed. The provider keeps no state of its own (all of
 * it is in the stores), so swapping instances between two requests is safe.
 */

const KEY_TYPES = [...new Set(Object.values(KEY_FOR_ALG))];
const ALGS_OF: Record<string, SigningAlg[]> = Object.fromEntries(
  KEY_TYPES.map((kty) => [kty, Object.entries(KEY_FOR_ALG).filter(([, t]) => t === kty).map(([alg]) => alg as SigningAlg)]),
);

/** How often each node reloads keys and checks whether a scheduled rotation is due. */
export const KEY_CHECK_INTERVAL_MS = 60_000;

interface KeyRow {
  kid: string;
  /** The key type (RSA, EC): one key per type. */
  alg: KeyInfo['kty'];
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
}

export function statusOf(row: { activatesAt: Date; retiredAt: Date | null }, now = new Date()): KeyStatus {
  // A pending key superseded by a later rotation before it activated never signs: retired.
  if (row.retiredAt && (row.retiredAt <= now || row.retiredAt <= row.activatesAt)) return 'retired';
  if (row.activatesAt > now) return 'pending';
  return 'active';
}

function toInfo(r: KeyRow, now: Date): KeyInfo {
  const activatesAt = new Date(r.activates_at);
  const retiredAt = r.retired_at ? new Date(r.retired_at) : null;
  return {
    id: r.kid,
    kid: r.kid,
    kty: r.alg,
    algs: ALGS_OF[r.alg] ?? [],
    status: statusOf({ activatesAt, retiredAt }, now),
    created_at: new Date(r.created_at).toISOString(),
    activates_at: activatesAt.toISOString(),
    retired_at: retiredAt ? retiredAt.toISOString() : null,
    published_until: retiredAt ? new Date(retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000).toISOString() : null,
  };
}

/** Every key row, newest first, as the database has it (not this node's cached view). */
export async function listKeys(db: Queryable): Promise<KeyInfo[]> {
  const { rows } = await db.query<KeyRow & { now: Date }>(
    'SELECT kid, alg, created_at, activates_at, retired_at, now() AS now FROM signing_keys ORDER BY created_at DESC, kid',
  );
  const now = rows[0] ? new Date(rows[0].now) : new Date();
  return rows.map((r) => toInfo(r, now));
}


export interface RotateOptions {
  /** Seconds until the new keys sign. */
  activateIn: number;
  actor: Actor;
  reason: 'manual' | 'scheduled';
  /**
   * For scheduled rotation: rotate only if no key is pending and the newest key of some type
   * activated more than this many days ago. Checked under the lock, so one node rotates.
   */
  onlyIfOlderThanDays?: number;
}

const DUE = `
  SELECT NOT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at > now()
                       AND (retired_at IS NULL OR retired_at > activates_at))
     AND EXISTS (SELECT 1 FROM (SELECT alg, max(activates_at) AS newest FROM signing_keys
                                 WHERE retired_at IS NULL GROUP BY alg) k
                  WHERE k.newest < now() - make_interval(days => $1)) AS due`;

async function rotationDue(q: Queryable, days: number): Promise<boolean> {
  const { rows } = await q.query<{ due: boolean }>(DUE, [days]);
  return rows[0]?.due === true;
}

/**
 * Creates the next keys and schedules the retirement of the current ones, with its audit event, in
 * one transaction under the keys lock. Returns undefined when onlyIfOlderThanDays says it is not due.
 */
export async function rotateSigningKeys(db: Database, sealer: Sealer, options: RotateOptions): Promise<RotationResult | undefined> {
  // RSA generation takes a while: done before the lock is taken.
  const generated: GeneratedKey[] = await Promise.all(KEY_TYPES.map((kty) => generateSigningKey(sealer, kty)));
  return db.transaction(async (tx) => {
    // Transaction-scoped: released at commit or rollback. Conflicts with the session lock taken
    // when the first keys are created (server/store/signing-keys.ts), as intended.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
    if (options.onlyIfOlderThanDays !== undefined && !(await rotationDue(tx, options.onlyIfOlderThanDays))) return undefined;

    const retiring: string[] = [];
    for (const key of generated) {
      // With no key of this type in use yet (a database the server never started on), there is no
      // verifier to warn ahead: the key signs at once rather than leaving the type without a key.
      const { rows: inUse } = await tx.query('SELECT 1 FROM signing_keys WHERE alg = $1 AND (retired_at IS NULL OR retired_at > now()) LIMIT 1', [key.kty]);
      const activatesAt = await storeSigningKey(tx, key, inUse.length ? options.activateIn : 0);
      // Every other key of this type that would sign after the new one activates stops then;
      // LEAST keeps an earlier retirement, and supersedes a pending key from an earlier rotation.
      const { rows } = await tx.query<{ kid: string }>(
        `UPDATE signing_keys SET retired_at = $3
         WHERE alg = $1 AND kid <> $2 AND (retired_at IS NULL OR retired_at > $3)
         RETURNING kid`,
        [key.kty, key.kid, activatesAt],
      );
      retiring.push(...rows.map((r) => r.kid));
    }
    const kids = generated.map((k) => k.kid);
    const { rows } = await tx.query<KeyRow & { now: Date }>(
      'SELECT kid, alg, created_at, activates_at, retired_at, now() AS now FROM signing_keys WHERE kid = ANY($1::text[]) ORDER BY alg DESC',
      [kids],
    );
    const now = new Date(rows[0].now);
    const keys = rows.map((r) => toInfo(r, now));
    await recordAudit(tx, {
      type: 'signing_key.rotated',
      actor: options.actor,
      target: { type: 'signing_key', id: kids.join(' ') },
      data: { reason: options.reason, kids, retiring, activates_at: keys[0]?.activates_at },
    });
    return { keys, retiring };
  });
}

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
