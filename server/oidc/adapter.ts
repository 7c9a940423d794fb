import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { ArtifactStore, Payload } from '../../adapters/contract.js';
import { AlreadyConsumedError } from '../../adapters/errors.js';
import { digest } from '../crypto/tokens.js';

/** Kept in Postgres whatever else is configured: they outlive a Redis restart. */
const DURABLE = new Set(['Grant', 'RefreshToken']);

/**
 * Models whose id is a bearer value (a code, a token, a session cookie). Their ids are stored as
 * SHA-256 digests and the jti is dropped from the stored payload, so a database or Redis dump yields
 * nothing that can be presented. Grant ids are references, not credentials.
 */
const PLAIN_ID = new Set(['Grant', 'ReplayDetection']);

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
      const stored: Payload = { ...payload };
      if (this.hashed) delete stored.jti;
      await this.store.upsert(this.model, this.key(id), stored, expiresIn || undefined);
    }

    private restore(id: string, payload: Payload | undefined): AdapterPayload | undefined {
      if (!payload) return undefined;
      return (this.hashed ? { ...payload, jti: id } : payload) as AdapterPayload;
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
