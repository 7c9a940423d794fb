/**
 * The storage contract behind oidc-provider's adapter interface, one level lower: it stores what it
 * is given under the key it is given. Hashing bearer values, choosing a backend per model and mapping
 * errors to OAuth responses happen above it (server/oidc/adapter.ts), so every backend is small and
 * one shared test suite (test/adapters/contract.ts) holds each to the same behaviour.
 */
export type Payload = Record<string, unknown>;

export interface ArtifactStore {
  readonly name: string;
  /** Creates or replaces. expiresIn is seconds; undefined means no expiry. */
  upsert(model: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<void>;
  /**
   * Stores the artifact only if no live one has this id, and says whether this call stored it,
   * atomically: of concurrent calls exactly one returns true. An expired artifact counts as absent.
   * For records that exist to be seen once (replay detection), so the payload may not carry fields
   * the stores index (grantId, uid, userCode, clientId, accountId).
   */
  create(model: string, id: string, payload: Payload, expiresIn: number): Promise<boolean>;
  /** The stored payload, with `consumed` (epoch seconds) once consumed; undefined if absent or expired. */
  find(model: string, id: string): Promise<Payload | undefined>;
  findByUid(model: string, uid: string): Promise<Payload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<Payload | undefined>;
  /**
   * Marks the artifact consumed, atomically: of two concurrent calls exactly one succeeds, and the
   * other (or any call on an absent artifact) throws AlreadyConsumedError.
   */
  consume(model: string, id: string): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /**
   * Removes the live artifact of this model carrying this uid, if any, and says whether it did: how
   * a person ends one of their browser sessions, known to them by its uid, never by its cookie.
   */
  destroyByUid(model: string, uid: string): Promise<boolean>;
  /** Removes every artifact of this model that belongs to the grant. */
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /**
   * Removes every artifact of this model issued to the client (payload.clientId) and returns how many:
   * what revoking a client takes away (RFC 6749 §10.4, RFC 7009 §2.1).
   */
  revokeByClientId(model: string, clientId: string): Promise<number>;
  /**
   * Removes every artifact of this model that acts for the account (payload.accountId) and returns
   * how many: what deactivating a user or changing their password takes away (OWASP ASVS 3.3.3).
   */
  revokeByAccountId(model: string, accountId: string): Promise<number>;
}

/** The payload fields revocation looks artifacts up by. */
export type OwnerField = 'clientId' | 'accountId';

/** The fields of a payload the stores index on. */
export function indexFields(payload: Payload): { grantId?: string; uid?: string; userCode?: string; clientId?: string; accountId?: string } {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    grantId: str(payload.grantId),
    uid: str(payload.uid),
    userCode: str(payload.userCode),
    clientId: str(payload.clientId),
    accountId: str(payload.accountId),
  };
}

export const epochNow = () => Math.floor(Date.now() / 1000);

/** create()'s lifetime in whole seconds, at least one: both stores count it in seconds, where 0 would not expire. */
export const createLifetime = (expiresIn: number): number => Math.max(1, Math.ceil(expiresIn));

/** create() takes no indexed payload: an index entry written by a call that lost the race would dangle. */
export function assertUnindexed(payload: Payload): void {
  const fields = Object.entries(indexFields(payload)).filter(([, v]) => v !== undefined);
  if (fields.length) throw new TypeError(`create() stores no indexed fields (${fields.map(([k]) => k).join(', ')})`);
}
