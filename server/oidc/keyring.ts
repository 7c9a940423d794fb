import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import { loadSigningKeys, providerJwks, type StoredKey } from '../store/signing-keys.js';

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
    this.keySet = createLocalJWKSet({ keys: this.keys.map((k) => publicPart(k.privateJwk)) });
  }

  /** Key ids, newest first: lets a caller tell whether a reload changed anything. */
  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  providerJwks(): { keys: JWK[] } {
    return providerJwks(this.keys);
  }

  verifier(): JWTVerifyGetKey {
    if (!this.keySet) throw new Error('KeyRing.load() has not run');
    return this.keySet;
  }
}
