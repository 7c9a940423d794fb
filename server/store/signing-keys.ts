import { generateKeyPair, exportJWK, calculateJwkThumbprint, type JWK } from 'jose';
import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';

/** Algorithms we keep a key for. RS256 is what OIDC requires every provider to support. */
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** PS256 shares the RSA key; one key per key type is enough. */
const KEY_FOR_ALG: Record<SigningAlg, 'RSA' | 'EC'> = { RS256: 'RSA', PS256: 'RSA', ES256: 'EC' };
const GENERATE: Record<'RSA' | 'EC', () => ReturnType<typeof generateKeyPair>> = {
  RSA: () => generateKeyPair('RS256', { modulusLength: 2048, extractable: true }),
  EC: () => generateKeyPair('ES256', { extractable: true }),
};

const KEYS_LOCK = 0x6b657973; // "keys"

export interface StoredKey {
  kid: string;
  kty: string;
  privateJwk: JWK;
  activatesAt: Date;
  retiredAt: Date | null;
}

interface Row {
  kid: string;
  alg: string;
  private_jwk_sealed: string;
  activates_at: Date;
  retired_at: Date | null;
}

async function insertKey(q: Queryable, sealer: Sealer, kty: 'RSA' | 'EC') {
  const { privateKey, publicKey } = await GENERATE[kty]();
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = { ...(await exportJWK(privateKey)), kid };
  await q.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_sealed) VALUES ($1, $2, $3, $4)`,
    [kid, kty, JSON.stringify({ ...publicJwk, kid }), sealer.seal(JSON.stringify(privateJwk), kid)],
  );
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
  const { rows } = await db.query<Row>(
    'SELECT kid, alg, private_jwk_sealed, activates_at, retired_at FROM signing_keys ORDER BY activates_at DESC, created_at DESC',
  );
  return rows.map((r) => ({
    kid: r.kid,
    kty: r.alg,
    privateJwk: JSON.parse(sealer.open(r.private_jwk_sealed, r.kid)) as JWK,
    activatesAt: new Date(r.activates_at),
    retiredAt: r.retired_at ? new Date(r.retired_at) : null,
  }));
}

/**
 * The JWKS oidc-provider is built with: for each key type the newest active key first (it signs),
 * then the others (published for verification only).
 */
export function providerJwks(keys: StoredKey[], now = new Date()): { keys: JWK[] } {
  const active = (k: StoredKey) => !k.retiredAt && k.activatesAt <= now;
  const signing = new Map<string, StoredKey>();
  for (const k of keys) if (active(k) && !signing.has(k.kty)) signing.set(k.kty, k);
  const first = [...signing.values()];
  const rest = keys.filter((k) => !first.includes(k));
  return { keys: [...first, ...rest].map((k) => k.privateJwk) };
}
