import ProviderClass, { type Adapter, type Provider } from 'oidc-provider';
import type { FailureMarks } from './throttle.js';
import { digest, digestsEqual, randomToken } from '../crypto/tokens.js';
import type { ClientRecord } from '../store/clients.js';
import type { HotReads } from '../store/cache.js';
import { ipAllowed } from '../net/ip-allowlist.js';
import { isOidcScope } from '../services/scope-names.js';

/**
 * Client metadata properties we add to what oidc-provider knows (RFC 7591 §2 allows extensions).
 * api_scopes: the API scopes this client may be granted. Its `scope` metadata only holds OIDC scopes,
 * because oidc-provider checks that against a static list and API scopes live in the database.
 */
export const EXTRA_CLIENT_METADATA = ['gatehouse_api_scopes', 'gatehouse_secrets', 'gatehouse_ip_allowlist', 'gatehouse_owner', 'gatehouse_require_pkce'];

/**
 * oidc-provider requires a client_secret on confidential clients. Ours are compared against the
 * stored digests (compareClientSecret below), so the value it holds is a per-process random
 * placeholder that no caller can know or use. HMAC-based methods are disabled in the provider
 * configuration, so nothing derives keys from it.
 */
const PLACEHOLDER_SECRET = randomToken(32);

export function toProviderMetadata(record: ClientRecord): Record<string, unknown> {
  // require_pkce is ours (read by pkce.required in provider.ts); require_pushed_authorization_requests
  // and dpop_bound_access_tokens are oidc-provider's own metadata (RFC 9126 §6, RFC 9449 §5.2).
  const { scope, require_pkce, ...rest } = record.metadata;
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  const usesCode = rest.grant_types.includes('authorization_code');
  return {
    ...rest,
    client_id: record.clientId,
    response_types: usesCode ? ['code'] : [],
    gatehouse_api_scopes: scopes.filter((s) => !isOidcScope(s)).join(' '),
    // Only the client_secret_* methods hold a secret (a public client has none; private_key_jwt has keys).
    ...(!rest.token_endpoint_auth_method.startsWith('client_secret_')
      ? {}
      : {
          client_secret: PLACEHOLDER_SECRET,
          gatehouse_secrets: record.secrets.map((s) => ({ id: s.id, hash: s.hash, exp: s.expiresAt })),
        }),
    gatehouse_ip_allowlist: record.ipAllowlist,
    gatehouse_require_pkce: require_pkce === true,
    // The user who created it: its scopes of role-enforcing APIs are bounded by their roles (resources.ts).
    ...(record.createdBy ? { gatehouse_owner: record.createdBy } : {}),
  };
}

/**
 * The record of a client that may authenticate now, through this node's cache, which a change on any
 * node invalidates (server/store/cache.ts), so that a suspension, deletion or scope change applies at
 * the next token request on every node. Expiry is checked here on every call, on the cached copy. A
 * suspended or expired client is reported as unknown: oidc-provider answers invalid_client.
 */
async function findActiveClient(reads: Pick<HotReads, 'findClient'>, clientId: string): Promise<ClientRecord | undefined> {
  const record = await reads.findClient(clientId);
  if (!record) return undefined;
  if (!record.enabled || (record.expiresAt && record.expiresAt.getTime() <= Date.now())) {
    // A client refused by decision, not a guess: its refusals are not counted against it
    // (server/oidc/throttle.ts), or resuming it would find it blocked for having been suspended.
    const current = ProviderClass.ctx;
    if (current) {
      (current.state as FailureMarks).inactiveClient = true;
      (current.state as FailureMarks).inactiveReason = record.enabled ? 'client_expired' : 'client_suspended';
    }
    return undefined;
  }
  return record;
}

/** The Client model's adapter: read-only, from the clients table (findActiveClient). */
export function createClientAdapter(reads: Pick<HotReads, 'findClient'>): (name: string) => Adapter {
  return () => ({
    async find(clientId: string) {
      const record = await findActiveClient(reads, clientId);
      return record ? (toProviderMetadata(record) as never) : undefined;
    },
    async upsert() {
      throw new Error('clients are managed through the management API, not dynamic registration');
    },
    async destroy() {
      throw new Error('clients are managed through the management API, not dynamic registration');
    },
    async consume() {},
    async findByUid() {
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async revokeByGrantId() {},
  });
}

/**
 * Hands out the same oidc-provider Client for as long as the cache holds the same record of it. The
 * library would otherwise rebuild the metadata and digest it (lib/models/client.js, find) on every
 * request to find the Client it already built; this skips that work on the token path (issue 10).
 * The cache replaces a record whenever its row changes, so a changed client never gets an old Client;
 * whether it may authenticate is still decided on each call (findActiveClient).
 */
export function reuseClients(provider: Provider, reads: Pick<HotReads, 'findClient'>): void {
  const Client = provider.Client as unknown as { find(id: unknown): Promise<unknown> };
  const build = Client.find.bind(Client);
  const built = new WeakMap<ClientRecord, unknown>();
  Client.find = async function find(id) {
    if (typeof id !== 'string' || !id) return build(id);
    const record = await findActiveClient(reads, id);
    if (!record) return undefined;
    const known = built.get(record);
    if (known) return known;
    const client = await build(id);
    if (client) built.set(record, client);
    return client;
  };
}

interface SecretEntry {
  id: string;
  hash: string;
  exp: number | null;
}

export interface SecretCheckHooks {
  /** The request's client address (oidc-provider's ALS context), for the IP allowlist. */
  requestIp(): string | undefined;
  /** Runs before the secret is compared: rejects to refuse (a client_id refused at this address). */
  beforeCompare?(clientId: string): Promise<void> | undefined;
  onMatch?(clientId: string, secretId: string): void;
  onIpRefused?(clientId: string, ip: string): void;
}

/**
 * Replaces oidc-provider's plain-text secret comparison with a check against SHA-256 digests. Every
 * live digest is compared (no early exit) so the time taken does not say which one matched. A
 * request from outside the client's IP allowlist fails the same way (invalid_client).
 */
export function installSecretComparison(provider: Provider, hooks: SecretCheckHooks) {
  const proto = provider.Client.prototype as unknown as {
    compareClientSecret(
      this: { clientId: string; gatehouse_secrets?: SecretEntry[]; gatehouse_ip_allowlist?: string[] },
      actual: string,
    ): Promise<boolean>;
  };
  proto.compareClientSecret = async function compareClientSecret(actual) {
    const refused = hooks.beforeCompare?.(this.clientId);
    if (refused) await refused;
    const allowlist = this.gatehouse_ip_allowlist ?? [];
    const ip = hooks.requestIp();
    if (allowlist.length && !(ip && ipAllowed(allowlist, ip))) {
      hooks.onIpRefused?.(this.clientId, ip ?? 'unknown');
      return false;
    }
    const presented = digest(actual);
    const now = Math.floor(Date.now() / 1000);
    let matched: SecretEntry | undefined;
    for (const entry of this.gatehouse_secrets ?? []) {
      const live = entry.exp === null || entry.exp > now;
      if (digestsEqual(entry.hash, presented) && live) matched = entry;
    }
    if (matched) hooks.onMatch?.(this.clientId, matched.id);
    return matched !== undefined;
  };
}
