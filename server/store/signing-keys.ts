import { generateKeyPair, exportJWK, calculateJwkThumbprint, type JWK } from 'jose';
import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';

/** Algorithms we keep a key for. RS256 is what OIDC requires every provider to support. */
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** PS256 shares the RSA key; one key per key type is enough. */
export const KEY_FOR_ALG: Record<SigningAlg, 'RSA' | 'EC'> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC' };
const GENERATE: Record<'RSA' | 'EC', () => ReturnType<typeof generateKeyPair>> = {
  RSA: () => generateKeyPair('RS256', { modulusLength: 2048, extractable: true }),
  EC: () => generateKeyPair('ES256', { extractable: true }),
};

/** Held while keys are created (first start, rotation), so concurrent nodes agree on one set. */
export const KEYS_LOCK = 0x6b657973; // "keys"

/**
 * How long a retired key stays published: the longest-lived token it can have signed (access
 * tokens are capped at 3600 s, ID tokens live 3600 s), plus a margin for a node whose clock runs
 * behind or which has not reloaded its keys yet and so signed a little past retired_at.
 */
export const PUBLISHED_AFTER_RETIREMENT_SECONDS = 3600 + 5 * 60;

export interface StoredKey {
  kid: string;
  kty: string;
  privateJwk: JWK;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
}

interface Row {
  kid: string;
  alg: string;
  private_jwk_sealed: string;
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
}

export interface GeneratedKey {
  kid: string;
  kty: 'RSA' | 'EC';
  publicJwk: JWK;
  /** The private JWK, sealed under KEY_ENCRYPTION_SECRET and bound to the kid. */
  sealed: string;
}

/** A fresh key pair; the kid is its RFC 7638 thumbprint. Slow for RSA: call it outside locks. */
export async function generateSigningKey(sealer: Sealer, kty: 'RSA' | 'EC'): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await GENERATE[kty]();
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid };
  return { kid, kty, publicJwk: { ...publicJwk, kid }, sealed: sealer.seal(JSON.stringify(privateJwk), kid) };
}

/** Stores a generated key that starts signing activateInSeconds from now (database time). */
export async function storeSigningKey(q: Queryable, key: GeneratedKey, activateInSeconds = 0): Promise<Date> {
  const { rows } = await q.query<{ activates_at: Date }>(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_sealed, activates_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING activates_at`,
    [key.kid, key.kty, JSON.stringify(key.publicJwk), key.sealed, activateInSeconds],
  );
  return new Date(rows[0].activates_at);
}

async function insertKey(q: Queryable, sealer: Sealer, kty: 'RSA' | 'EC') {
  await storeSigningKey(q, await generateSigningKey(sealer, kty));
}

/**
 * Loads the signing keys, creating one per key type on first start. Creation runs under an advisory
 * lock, so nodes that start together on an empty database agree on one key set.
 */
export async function loadSigningKeys(db: Database, sealer: Sealer): Promise<StoredKey[]> {
  await db.withAdvisoryLock(KEYS_LOCK, async (q) => {
    const { rows } = await q.query<{ alg: string }>('SELECT DISTINCT alg FROM signing_keys WHERE retired_at IS NULL');
    const have = new Set(rows.map((r) => r.alg));
    for (const kty of new Set(Object.values(KEY_FOR_ALG))) {
      if (!have.has(kty)) await insertKey(q, sealer, kty);
    }
  });
  // Keys whose publication window has passed are of no use to anyone: not even loaded.
  const { rows } = await db.query<Row>(
    `SELECT kid, alg, private_jwk_sealed, created_at, activates_at, retired_at FROM signing_keys
     WHERE retired_at IS NULL OR retired_at + make_interval(secs => $1) > now()
     ORDER BY activates_at DESC, created_at DESC`,
    [PUBLISHED_AFTER_RETIREMENT_SECONDS],
  );
  return rows.map((r) => ({
    kid: r.kid,
    kty: r.alg,
    privateJwk: JSON.parse(sealer.open(r.private_jwk_sealed, r.kid)) as JWK,
    createdAt: new Date(r.created_at),
    activatesAt: new Date(r.activates_at),
    retiredAt: r.retired_at ? new Date(r.retired_at) : null,
  }));
}

/** A key signs from activates_at until retired_at. */
export const isSigning = (k: StoredKey, now: Date) => k.activatesAt <= now && (!k.retiredAt || k.retiredAt > now);

/** A key is published from its creation until every token it can have signed has expired. */
export const isPublished = (k: StoredKey, now: Date) =>
  !k.retiredAt || k.retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000 > now.getTime();

/**
 * The JWKS oidc-provider is built with: for each key type the newest signing key first (oidc-provider
 * signs with the first key that fits the algorithm), then the other published keys, pending and
 * retiring ones, for verification only.
 */
export function providerJwks(keys: StoredKey[], now = new Date()): { keys: JWK[] } {
  const published = keys.filter((k) => isPublished(k, now));
  const signing = new Map<string, StoredKey>();
  for (const k of published) if (isSigning(k, now) && !signing.has(k.kty)) signing.set(k.kty, k);
  const first = [...signing.values()];
  const rest = published.filter((k) => !first.includes(k));
  return { keys: [...first, ...rest].map((k) => k.privateJwk) };
}

export interface KeyRow {
  kid: string;
  alg: string;
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
  /** The database's clock, so status is judged by one clock across nodes. */
  now: Date;
}

/** Key rows newest first (all, or the named kids), without private material. */
export async function listKeyRows(db: Queryable, kids?: readonly string[]): Promise<KeyRow[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT kid, alg, created_at, activates_at, retired_at, now() AS now FROM signing_keys
     WHERE $1::text[] IS NULL OR kid = ANY($1::text[]) ORDER BY created_at DESC, kid`,
    [kids ?? null],
  );
  return rows;
}

/**
 * Transaction-scoped: released at commit or rollback. Conflicts with the session lock taken when
 * the first keys are created (loadSigningKeys), as intended.
 */
export async function lockKeysForTransaction(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
}

/** Whether a key of this type signs now or will (a database the server has started on). */
export async function keyTypeInUse(q: Queryable, kty: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM signing_keys WHERE alg = $1 AND (retired_at IS NULL OR retired_at > now()) LIMIT 1', [kty]);
  return rows.length > 0;
}

/**
 * Every other key of this type that would sign after `at` stops then; LEAST-like, it keeps an
 * earlier retirement and supersedes a pending key from an earlier rotation. Returns their kids.
 */
export async function retireOtherKeys(q: Queryable, kty: string, exceptKid: string, at: Date): Promise<string[]> {
  const { rows } = await q.query<{ kid: string }>(
    `UPDATE signing_keys SET retired_at = $3
     WHERE alg = $1 AND kid <> $2 AND (retired_at IS NULL OR retired_at > $3)
     RETURNING kid`,
    [kty, exceptKid, at],
  );
  return rows.map((r) => r.kid);
}

/**
 * A scheduled rotation is due when no key is pending and the newest key of some type activated
 * more than `days` ago.
 */
export async function rotationDue(q: Queryable, days: number): Promise<boolean> {
  const { rows } = await q.query<{ due: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at > now()
                          AND (retired_at IS NULL OR retired_at > activates_at))
        AND EXISTS (SELECT 1 FROM (SELECT alg, max(activates_at) AS newest FROM signing_keys
                                    WHERE retired_at IS NULL GROUP BY alg) k
                     WHERE k.newest < now() - make_interval(days => $1)) AS due`,
    [days],
  );
  return rows[0]?.due === true;
}
