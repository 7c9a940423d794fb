import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
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
  const session = stored.session as Record<string, unknown> | undefined;
  if (session && typeof session === 'object' && 'cookie' in session) {
    const { cookie: _cookie, ...rest } = session;
    stored.session = rest;
  }
  return stored;
}

function fromRest(id: string, payload: Payload): AdapterPayload {
  const { returnToBase, ...restored } = payload;
  if (typeof returnToBase === 'string') restored.returnTo = `${returnToBase}${id}`;
  return { ...restored, jti: id } as AdapterPayload;
}

/** What the stores need to turn a lost consume() race into reuse detection. */
export interface ArtifactRouting {
  durable: ArtifactStore;
  shortLived: ArtifactStore;
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
    }

    private key(id: string) {
      return this.hashed ? digest(id) : id;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      if (this.delegate) return this.delegate.upsert(id, payload, expiresIn);
      const stored: Payload = this.hashed ? atRest(id, payload) : { ...payload };
      // Postgres cannot hold a NUL; refuse it in every store alike, so a %00 in state or nonce fails
      // (400) where the flow starts rather than at the token endpoint when a refresh token is saved.
      if (containsNul(stored)) throw new UnstorableValueError();
      await this.store.upsert(this.model, this.key(id), stored, expiresIn || undefined);
    }

    private restore(id: string, payload: Payload | undefined): AdapterPayload | undefined {
      if (!payload) return undefined;
      return this.hashed ? fromRest(id, payload) : (payload as AdapterPayload);
    }

    async find(id: string) {
      if (this.delegate) return this.delegate.find(id);
      return this.restore(id, await this.store.find(this.model, this.key(id)));
    }

    async findByUid(uid: string) {
      const payload = await this.store.findByUid(this.model, uid);
      // The stored payload has no jti; the session's jti is not recoverable from its digest, so
      // callers that look a session up by uid get it without one (oidc-provider only reads it).
      return payload as AdapterPayload | undefined;
    }

    async findByUserCode(userCode: string) {
      return (await this.store.findByUserCode(this.model, userCode)) as AdapterPayload | undefined;
    }

    async consume(id: string) {
      try {
        await this.store.consume(this.model, this.key(id));
      } catch (err) {
        if (!(err instanceof AlreadyConsumedError)) throw err;
        // A concurrent request consumed it between our find and this call. Treat it as reuse
        // (RFC 6749 §4.1.2, §10.4): refuse, and revoke what the grant issued.
        if (err.grantId) await revokeGrantEverywhere(routing, err.grantId!);
        throw new errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
      }
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
