import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import {
  PUBLISHED_AFTER_RETIREMENT_SECONDS,
  isPublished,
  loadSigningKeys,
  providerJwks,
  type StoredKey,
} from '../store/signing-keys.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function publicPart(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k))) as JWK;
}

/**
 * This node's view of the signing keys. The provider signs with providerJwks(); our own resource
 * server (the Management API) verifies with verifier(), offline, like any resource server would.
 */
export class KeyRing {
  private keys: StoredKey[] = [];
  private keySet: JWTVerifyGetKey | undefined;

  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
  ) {}

  async load(): Promise<void> {
    this.keys = await loadSigningKeys(this.db, this.sealer);
    this.keySet = createLocalJWKSet({ keys: providerJwks(this.keys).keys.map(publicPart) });
  }

  /** Key ids, newest first: lets a caller tell whether a reload changed anything. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  providerJwks(now = new Date()): { keys: JWK[] } {
    return providerJwks(this.keys, now);
  }

  /**
   * What the provider would be built with at `now`, as a string: published kids in signing order.
   * A provider built with another fingerprint is out of date.
   */
  fingerprint(now = new Date()): string {
    return providerJwks(this.keys, now).keys.map((k) => k.kid).join(' ');
  }

  /** The next moment the fingerprint changes by itself (a key activates, retires or is unpublished). */
  nextChange(now = new Date()): Date | undefined {
    const moments = this.keys.flatMap((k) => [
      k.activatesAt,
      ...(k.retiredAt ? [k.retiredAt, new Date(k.retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000)] : []),
    ]);
    const future = moments.filter((m) => m > now).sort((a, b) => a.getTime() - b.getTime());
    return future[0];
  }

  /** The keys this node knows, published ones only. */
  published(now = new Date()): readonly StoredKey[] {
    return this.keys.filter((k) => isPublished(k, now));
  }

  verifier(): JWTVerifyGetKey {
    if (!this.keySet) throw new Error('KeyRing.load() has not run');
    return this.keySet;
  }
}
