import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { PostgresArtifactStore } from '../../adapters/postgres.js';
import type { ArtifactStore, Payload } from '../../adapters/contract.js';
import { AlreadyConsumedError, UnstorableValueError } from '../db/errors.js';
import { digest } from '../crypto/tokens.js';

/** Kept in Postgres whatever else is configured: they outlive a Redis restart. */
const DURABLE = new Set(['Grant', 'RefreshToken']);

/**
 * Models whose id is a bearer value (a code, a token, a session cookie). Their ids are stored as
 * SHA-256 digests and the jti is dropped from the stored payload, so a database or Redis dump yields
 * nothing that can be presented. Grant ids are references, not credentials.
 */
const PLAIN_ID = new Set(['Grant', 'ReplayDetection']);

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v));
  return false;
}

/**
 * What is stored of a bearer model's payload: not its jti (the id itself), and no other copy of a
 * bearer value, because oidc-provider repeats two inside an Interaction. Its returnTo is the resume
 * URL, which ends in the interaction's own id (the interaction cookie's value); only the part before
 * is kept, and find() appends the id it was given. Its session.cookie is the browser session's id
 * (the session cookie's value), which oidc-provider writes there but never reads; it is dropped.
 */
function atRest(id: string, payload: AdapterPayload): Payload {
  const { jti: _jti, returnTo, ...stored } = payload as Payload;
  if (typeof returnTo === 'string') {
    if (returnTo.endsWith(`/${id}`)) stored.returnToBase = returnTo.slice(0, -id.length);
    else stored.returnTo = returnTo;
  }
  if (typeof stored.userCode === 'string') stored.userCode = atRestUserCode(stored.userCode);
  const session = stored.session as Record<string, unknown> | undefined;
  if (session && typeof session === 'object' && 'cookie' in session) {
    const { cookie: _cookie, ...rest } = session;
    stored.session = rest;
  }
  return stored;
}

/**
 * A device flow's user code (RFC 8628 §6.1) is a short-lived bearer value too: it is kept as its
 * digest, and looked up by the digest of what the person typed. oidc-provider never reads it back
 * after issuing it, and hands the stored payload back to upsert() when it saves the code again, so
 * a value that is already a digest (43 characters; a user code has 8) is kept as it is.
 */
/**
 * A jti that is not a bearer value but the key it is stored under: a device code found by its user
 * code, saved again on the /device pages and when the person's sign-in resumes (possibly on another
 * node). Honoured on those routes only, so that nobody can present a stored digest as a device code
 * at the token endpoint.
 */
const STORED_KEY = 'stored-key:';
const STORED_KEY_ROUTES = new Set(['code_verification', 'device_resume']);
const storedKeyAllowed = () => STORED_KEY_ROUTES.has(String(Provider.ctx?.oidc?.route));
const USER_CODE_DIGEST = /^[\w-]{43}$/;
const atRestUserCode = (code: string) => (USER_CODE_DIGEST.test(code) ? code : digest(code));

/**
 * oidc-provider's ReplayDetection.unique() reads a jti's record and then writes it, so two requests
 * carrying the same client assertion or DPoP proof at once would both read "not seen" and both be
 * served. The adapter's find() for that model claims the record instead, atomically (the stores'
 * create()): of concurrent callers exactly one hears "not seen", and the upsert() unique() makes next
 * gives the record its real expiry. The claim's own lifetime only matters if that upsert never
 * comes (the request failed in between), and then it keeps the jti refused a while longer.
 * RFC 7523 §3 (7) and RFC 7519 §4.1.7 (a jti used once), RFC 9449 §11.1 (DPoP proof replay).
 */
const REPLAY_CLAIM_SECONDS = 600;

function fromRest(id: string, payload: Payload): AdapterPayload {
  const { returnToBase, ...restored } = payload;
  if (typeof returnToBase === 'string') restored.returnTo = `${returnToBase}${id}`;
  return { ...restored, jti: id } as AdapterPayload;
}

/** What the stores need to turn a lost consume() race into reuse detection. */
export interface ArtifactRouting {
  durable: ArtifactStore;
  shortLived: ArtifactStore;
  /** Told of every grant revoked here (a lost refresh race), so resource servers hear of it. */
  grantRevoked?(grantId: string): Promise<void>;
}

export function storeFor(routing: ArtifactRouting, model: string): ArtifactStore {
  return DURABLE.has(model) ? routing.durable : routing.shortLived;
}

/** Models holding anything of a grant; all of them go when the grant is revoked. */
const GRANT_MODELS = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'];

export async function revokeGrantEverywhere(routing: ArtifactRouting, grantId: string): Promise<void> {
  await Promise.all([
    ...GRANT_MODELS.map((model) => storeFor(routing, model).revokeByGrantId(model, grantId)),
    routing.durable.destroy('Grant', grantId),
  ]);
  await routing.grantRevoked?.(grantId);
}

/**
 * A refresh costs two database round trips instead of four (RFC 6749 §6 with rotation, RFC 9700
 * §4.14.2). oidc-provider's refresh_token grant reads the refresh token, then its grant, then
 * consumes the token and at once saves its successor. Here the first read fetches the grant too
 * (kept for the request that read it, and handed out once), and the consume is held back and done
 * in the same statement that writes the successor, which is written only if the consume succeeds:
 * single use stays atomic (of two concurrent refreshes exactly one wins, the other revokes the
 * grant, as before). settleDeferredConsume() runs after every token request (the only kind that
 * can hold one back) so that a consume never stays held back, whatever path the library takes.
 */
interface RequestMemo {
  grant?: { id: string; payload: Payload | undefined };
  /** The storage key of a refresh token whose consume waits for its successor's upsert. */
  pendingConsume?: string;
}
const memos = new WeakMap<object, RequestMemo>();

function memo(): RequestMemo | undefined {
  const ctx = Provider.ctx;
  if (!ctx) return undefined;
  let m = memos.get(ctx);
  if (!m) memos.set(ctx, (m = {}));
  return m;
}

type BatchingStore = Pick<PostgresArtifactStore, 'findWithGrant' | 'consumeAndUpsert'>;
const batching = (store: ArtifactStore): BatchingStore | undefined =>
  'findWithGrant' in store && 'consumeAndUpsert' in store ? (store as unknown as BatchingStore) : undefined;

/** A lost consume() race is reuse (RFC 6749 §4.1.2, §10.4; RFC 9700 §4.14.2): refuse, and revoke what the grant issued. */
async function refuseReuse(routing: ArtifactRouting, model: string, err: unknown): Promise<never> {
  if (!(err instanceof AlreadyConsumedError)) throw err;
  if (err.grantId) await revokeGrantEverywhere(routing, err.grantId);
  throw new errors.InvalidGrant(`${model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
}

/** Runs a consume still held back when the request is over (see RequestMemo); never expected. */
export async function settleDeferredConsume(routing: ArtifactRouting, ctx: object): Promise<void> {
  const m = memos.get(ctx);
  const key = m?.pendingConsume;
  if (!key) return;
  m.pendingConsume = undefined;
  await routing.durable.consume('RefreshToken', key).catch((err) => refuseReuse(routing, 'RefreshToken', err));
}

/**
 * Builds the Adapter class oidc-provider instantiates once per model. The Client model is served
 * separately (from the clients table) by clientAdapter.
 */
export function createAdapterClass(routing: ArtifactRouting, clientAdapter: (name: string) => Adapter) {
  return class GatehouseAdapter implements Adapter {
    private readonly store: ArtifactStore;
    private readonly hashed: boolean;
    private readonly delegate: Adapter | undefined;

    constructor(private readonly model: string) {
      this.store = storeFor(routing, model);
      this.hashed = !PLAIN_ID.has(model);
      this.delegate = model === 'Client' ? clientAdapter(model) : undefined;
      this.batching = model === 'RefreshToken' ? batching(this.store) : undefined;
    }

    private readonly batching: BatchingStore | undefined;

    private key(id: string) {
      if (id.startsWith(STORED_KEY) && storedKeyAllowed()) return id.slice(STORED_KEY.length);
      return this.hashed ? digest(id) : id;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      if (this.delegate) return this.delegate.upsert(id, payload, expiresIn);
      const stored: Payload = this.hashed ? atRest(id, payload) : { ...payload };
      if (typeof stored.userCode === 'string') stored.storageKey = this.key(id);
      // Postgres cannot hold a NUL; refuse it in every store alike, so a %00 in state or nonce fails
      // (400) where the flow starts rather than at the token endpoint when a refresh token is saved.
      if (containsNul(stored)) throw new UnstorableValueError();
      const m = this.batching && memo();
      if (this.batching && m?.pendingConsume) {
        const consumed = m.pendingConsume;
        m.pendingConsume = undefined;
        await this.batching
          .consumeAndUpsert({ model: this.model, id: consumed }, this.model, this.key(id), stored, expiresIn || undefined)
          .catch((err) => refuseReuse(routing, this.model, err));
        return;
      }
      await this.store.upsert(this.model, this.key(id), stored, expiresIn || undefined);
    }

    private restore(id: string, payload: Payload | undefined): AdapterPayload | undefined {
      if (!payload) return undefined;
      return this.hashed ? fromRest(id, payload) : (payload as AdapterPayload);
    }

    async find(id: string) {
      if (this.delegate) return this.delegate.find(id);
      if (this.model === 'ReplayDetection') {
        const unseen = await this.store.create(this.model, this.key(id), { claimed: true }, REPLAY_CLAIM_SECONDS);
        return unseen ? undefined : ({ jti: id } as AdapterPayload);
      }
      if (this.batching) {
        const { payload, grant } = await this.batching.findWithGrant(this.model, this.key(id));
        const m = memo();
        if (m && typeof payload?.grantId === 'string') m.grant = { id: payload.grantId, payload: grant };
        return this.restore(id, payload);
      }
      if (this.model === 'Grant') {
        const m = memos.get(Provider.ctx ?? {});
        if (m?.grant?.id === id) {
          const { payload } = m.grant;
          m.grant = undefined;
          return this.restore(id, payload);
        }
      }
      return this.restore(id, await this.store.find(this.model, this.key(id)));
    }

    async findByUid(uid: string) {
      const payload = await this.store.findByUid(this.model, uid);
      // The stored payload has no jti; the session's jti is not recoverable from its digest, so
      // callers that look a session up by uid get it without one (oidc-provider only reads it).
      return payload as AdapterPayload | undefined;
    }

    async findByUserCode(userCode: string) {
      const found = await this.store.findByUserCode(this.model, atRestUserCode(userCode));
      if (!found || typeof found.storageKey !== 'string') return undefined;
      // The device code (its jti) is not recoverable from its digest; the library saves the code it
      // found by its jti, so it gets one that names the stored key (see key()).
      const { storageKey, ...payload } = found;
      return { ...payload, userCode, jti: `${STORED_KEY}${storageKey}` } as AdapterPayload;
    }

    async consume(id: string) {
      // A refresh token spent at the token endpoint: consumed together with its successor's upsert.
      const m = this.batching && memo();
      if (m && Provider.ctx?.oidc?.route === 'token' && Provider.ctx.oidc.params?.grant_type === 'refresh_token') {
        m.pendingConsume = this.key(id);
        return;
      }
      // A concurrent request may have consumed it between our find and this call: that is reuse.
      await this.store.consume(this.model, this.key(id)).catch((err) => refuseReuse(routing, this.model, err));
    }

    async destroy(id: string) {
      if (this.delegate) return this.delegate.destroy(id);
      await this.store.destroy(this.model, this.key(id));
    }

    async revokeByGrantId(grantId: string) {
      await this.store.revokeByGrantId(this.model, grantId);
    }
  };
}
