import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import {
  KEY_FOR_ALG, PUBLISHED_AFTER_RETIREMENT_SECONDS, type GeneratedKey, type SigningAlg, type KeyRow, generateSigningKey, keyTypeInUse, listKeyRows,
  lockKeysForTransaction, retireOtherKeys, rotationDue, storeSigningKey,
} from '../store/signing-keys.js';
import { type Actor, recordAudit } from './audit.js';
import type { KeyInfo, KeyStatus, RotationResult } from './signing-key-schema.js';
import { decodeCursor, encodeCursor, parseLimit } from './pagination.js';

/**
 * Signing-key rotation (RFC 7517 §5 key sets; OpenID Connect Core §10.1.1 on rotating signing keys).
 *
 * A rotation adds one new key per key type. The new key is published in the JWKS at once but only
 * starts signing at activates_at, so every verifier can have fetched it before it sees a token
 * signed with it. The key it replaces gets retired_at = the new key's activates_at (it signs until
 * then) and stays published until every token it signed has expired.
 *
 * Each node's timer that reloads keys and rebuilds the provider is server/oidc/key-rotation.ts.
 */

const KEY_TYPES = [...new Set(Object.values(KEY_FOR_ALG))];
const ALGS_OF: Record<string, SigningAlg[]> = Object.fromEntries(
  KEY_TYPES.map((kty) => [kty, Object.entries(KEY_FOR_ALG).filter(([, t]) => t === kty).map(([alg]) => alg as SigningAlg)]),
);

export type { KeyInfo, KeyStatus, RotationResult };

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
    kty: r.alg as KeyInfo['kty'],
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
  const rows = await listKeyRows(db);
  const now = rows[0] ? new Date(rows[0].now) : new Date();
  return rows.map((r) => toInfo(r, now));
}

/** Longest activation delay a caller may ask for: a week, as for KEY_ACTIVATION_DELAY. */
export const MAX_ACTIVATE_IN = 7 * 24 * 3600;

/** GET /keys: a page of keys, newest first. */
export async function listKeysPage(db: Queryable, query: { cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { c: 'timestamp', k: 'text' });
  // A handful of rows (two per rotation): filtering in memory keeps the cursor simple.
  const all = await listKeys(db);
  const rest = after ? all.filter((k) => k.created_at < after.c || (k.created_at === after.c && k.kid > after.k)) : all;
  const data = rest.slice(0, limit);
  const last = data[data.length - 1];
  return { data, next_cursor: rest.length > limit && last ? encodeCursor({ c: last.created_at, k: last.kid }) : null };
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

export { rotationDue };

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
    await lockKeysForTransaction(tx);
    if (options.onlyIfOlderThanDays !== undefined && !(await rotationDue(tx, options.onlyIfOlderThanDays))) return undefined;

    const retiring: string[] = [];
    for (const key of generated) {
      // With no key of this type in use yet (a database the server never started on), there is no
      // verifier to warn ahead: the key signs at once rather than leaving the type without a key.
      const activatesAt = await storeSigningKey(tx, key, (await keyTypeInUse(tx, key.kty)) ? options.activateIn : 0);
      // Every other key of this type that would sign after the new one activates stops then;
      // LEAST keeps an earlier retirement, and supersedes a pending key from an earlier rotation.
      retiring.push(...(await retireOtherKeys(tx, key.kty, key.kid, activatesAt)));
    }
    const kids = generated.map((k) => k.kid);
    const rows = (await listKeyRows(tx, kids)).sort((a, b) => b.alg.localeCompare(a.alg));
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

