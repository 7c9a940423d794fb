import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
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

/** How many verified access tokens a node remembers (about 1 KB each), oldest forgotten first. */
const VERIFIED_TOKENS = 10_000;

/**
 * This node's view of the signing keys. The provider signs with providerJwks(); our own resource
 * servers (the Management API, the Shared Signals API, introspection) verify with
 * verifyAccessToken(), offline, like any resource server would.
 */
export class KeyRing {
  private keys: StoredKey[] = [];
  private keySet: JWTVerifyGetKey | undefined;
  /**
   * Access tokens whose signature, issuer and type were checked against the current key set, with
   * their claims. A token's bytes and the keys decide that check, so it is done once per token and
   * key set: a resource server introspecting the same token on each call, or a console token
   * presented to the Management API, costs no signature verification after the first (issue 10).
   * Emptied whenever the keys are loaded again, so a key that is removed stops verifying at once;
   * expiry and audience are checked on every use.
   */
  private verified = new Map<string, { issuer: string; payload: JWTPayload }>();

  constructor(
    private readonly db: Database,
    private readonly sealer: Sealer,
  ) {}

  async load(): Promise<void> {
    this.keys = await loadSigningKeys(this.db, this.sealer);
    this.keySet = createLocalJWKSet({ keys: providerJwks(this.keys).keys.map(publicPart) });
    this.verified.clear();
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

  /**
   * Verifies one of our RFC 9068 access tokens (`typ: at+jwt`, §4: never an ID token) from `issuer`,
   * for `audience` when given, and returns its claims. Throws jose's errors, JWTExpired for an
   * expired token, as jwtVerify does. The claims are shared by every use of the token: read only.
   */
  async verifyAccessToken(token: string, expected: { issuer: string; audience?: string }): Promise<Readonly<JWTPayload>> {
    const known = this.verified.get(token);
    let payload = known?.issuer === expected.issuer ? known.payload : undefined;
    if (payload) {
      // jose's rule (no clock tolerance): expired once exp is this second or earlier.
      if (typeof payload.exp === 'number' && payload.exp <= Math.floor(Date.now() / 1000)) {
        this.verified.delete(token);
        throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');
      }
    } else {
      ({ payload } = await jwtVerify(token, this.verifier(), { issuer: expected.issuer, typ: 'at+jwt' }));
      if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { issuer: expected.issuer, payload });
    }
    const { aud } = payload;
    if (expected.audience !== undefined && !(aud === expected.audience || (Array.isArray(aud) && aud.includes(expected.audience)))) {
      throw new joseErrors.JWTClaimValidationFailed('unexpected "aud" claim value', payload, 'aud', 'check_failed');
    }
    return payload;
  }
}
