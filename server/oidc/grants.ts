import type { KoaContextWithOIDC, Grant } from 'oidc-provider';
import type { Queryable } from '../db/database.js';
import { findConsent, saveConsent } from '../store/consents.js';

/**
 * Finds the grant an authorization request can use without asking the user again: the one just
 * consented to, the one in this browser session, or a new one built from the consent this user gave
 * this client before (remembered across sessions, unlike oidc-provider's default).
 */
export function existingGrantLoader(db: Queryable) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { Grant } = ctx.oidc.provider;
    const clientId = ctx.oidc.client!.clientId;
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
    if (grantId) {
      const grant = await Grant.find(grantId);
      if (grant) return grant;
    }
    const accountId = ctx.oidc.session!.accountId;
    if (!accountId) return undefined;
    const consent = await findConsent(db, accountId, clientId);
    if (!consent) return undefined;
    const grant = new Grant({ accountId, clientId });
    if (consent.oidcScope) grant.addOIDCScope(consent.oidcScope);
    if (consent.oidcClaims.length) grant.addOIDCClaims(consent.oidcClaims);
    for (const [resource, scope] of Object.entries(consent.resources)) grant.addResourceScope(resource, scope);
    await grant.save();
    return grant;
  };
}

const union = (...scopes: (string | undefined)[]) =>
  [...new Set(scopes.flatMap((s) => (s ?? '').split(' ')).filter(Boolean))].join(' ');

/** Adds everything this grant holds to what the user has consented to for this client. */
export async function rememberConsent(db: Queryable, grant: Grant): Promise<void> {
  const accountId = grant.accountId!;
  const clientId = grant.clientId!;
  const before = await findConsent(db, accountId, clientId);
  const resources: Record<string, string> = { ...before?.resources };
  for (const [resource, scope] of Object.entries(grant.resources ?? {})) {
    if (typeof scope === 'string' && scope) resources[resource] = union(resources[resource], scope);
  }
  await saveConsent(db, accountId, clientId, {
    oidcScope: union(before?.oidcScope, grant.openid?.scope),
    oidcClaims: [...new Set([...(before?.oidcClaims ?? []), ...(grant.openid?.claims ?? [])])],
    resources,
  });
}
