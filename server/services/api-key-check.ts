import type { Queryable } from '../db/database.js';
import { parseCredential } from '../crypto/credentials.js';
import { digest, digestsEqual } from '../crypto/tokens.js';
import { ipAllowed, normaliseIp } from '../net/ip-allowlist.js';
import { type ApiKey, touchApiKey } from '../store/api-keys.js';
import { type HotReads, uncachedReads } from '../store/cache.js';
import type { User } from '../store/users.js';
import { recordAudit } from './audit.js';
import type { ApiKeyUsage } from './api-key-usage.js';

export interface VerifiedApiKey {
  key: ApiKey;
  owner: User;
  /**
   * What the key can do now: its scopes, less any Management API scope the owner's roles no longer
   * allow (scopes of other APIs are checked against roles where the API enforces them).
   */
  rolePermissions: Set<string>;
}

export type ApiKeyRefusal = 'unknown' | 'disabled' | 'expired' | 'ip_not_allowed' | 'owner_inactive';

/**
 * Checks a presented API key: shape and checksum, lookup by its non-secret prefix, constant-time
 * digest comparison, then enabled, expiry, IP allowlist and owner. A key's previous secret (one a
 * roll replaced) passes until its overlap ends, and is then refused as expired. Records use (counted
 * in memory, `usage`) and audits use from an address the key has not been used from before. `reads`
 * is the token path's cache where there is one; the key, its owner and their roles come from it.
 */
export async function checkApiKey(
  db: Queryable,
  presented: string,
  ip: string,
  usage: ApiKeyUsage,
  reads: HotReads = uncachedReads(db),
): Promise<{ ok: true; value: VerifiedApiKey } | { ok: false; reason: ApiKeyRefusal; keyId?: string }> {
  const parsed = parseCredential(presented);
  if (!parsed || parsed.kind !== 'ak') return { ok: false, reason: 'unknown' };
  const key = await reads.findApiKeyByPrefix(parsed.prefix);
  const previous = key?.previous?.prefix === parsed.prefix ? key.previous : undefined;
  // Compare against something even when the prefix is unknown, so timing does not tell them apart.
  const matches = digestsEqual((previous ?? key)?.keyHash ?? digest('no key'), digest(presented));
  if (!key || !matches) return { ok: false, reason: 'unknown' };
  if (!key.enabled) return { ok: false, reason: 'disabled', keyId: key.id };
  if (previous && previous.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired', keyId: key.id };
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired', keyId: key.id };
  const address = normaliseIp(ip);
  if (!ipAllowed(key.ipAllowlist, address)) {
    await recordAudit(db, {
      type: 'api_key.refused',
      actor: { type: 'api_key', id: key.id, ip: address },
      target: { type: 'api_key', id: key.id },
      data: { reason: 'ip_not_allowed' },
    });
    return { ok: false, reason: 'ip_not_allowed', keyId: key.id };
  }
  const owner = await reads.findUserById(key.userId);
  if (!owner || !owner.active) return { ok: false, reason: 'owner_inactive', keyId: key.id };
  if (key.lastUsedIp !== address) {
    await recordAudit(db, {
      type: 'api_key.used_from_new_ip',
      actor: { type: 'api_key', id: key.id, ip: address },
      target: { type: 'api_key', id: key.id },
      data: { previous_ip: key.lastUsedIp },
    });
  }
  // Throttled: one write a minute per key is enough for "last used" and keeps hot keys cheap.
  if (key.lastUsedIp !== address || !key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
    await touchApiKey(db, key.id, address);
    // The row may be this node's cached copy, which a change of last_used_at alone does not
    // invalidate (migration 008): note the use in it too, or it would be written on every request.
    key.lastUsedAt = new Date();
    key.lastUsedIp = address;
  }
  usage.count(key.id, address);
  return { ok: true, value: { key, owner, rolePermissions: await reads.permissionsOfUser(owner.id) } };
}
