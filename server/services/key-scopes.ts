import type { VerifiedApiKey } from './api-key-check.js';
import type { Api } from '../store/apis.js';
import type { HotReads } from '../store/cache.js';

/** What an API key may do at one API right now. */
export interface KeyGrant {
  api: Api;
  scopes: string[];
}

/**
 * The scopes `key` can use at `api` at this moment: its own scopes that the API defines, less, where
 * the API enforces roles, whatever the owner's roles no longer allow. Nothing is copied into the key
 * when it is made, so a role change or an API's scope removal applies on the next use.
 */
export function keyScopesAt(api: Api, key: VerifiedApiKey): string[] {
  const defined = new Set(api.scopes.map((s) => s.name));
  return key.key.scopes.filter((s) => defined.has(s) && (!api.enforceRoles || key.rolePermissions.has(s)));
}

/**
 * Every API the key can still use, with its usable scopes there. Scope names are global (one API
 * defines each), so a key whose scopes span several APIs gets one entry per API; APIs where nothing
 * is left are omitted.
 */
export async function keyGrants(reads: Pick<HotReads, 'findApisByScopes'>, key: VerifiedApiKey): Promise<KeyGrant[]> {
  const apis = await reads.findApisByScopes(key.key.scopes);
  return apis.map((api) => ({ api, scopes: keyScopesAt(api, key) })).filter((g) => g.scopes.length);
}
