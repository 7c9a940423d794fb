import type { KoaContextWithOIDC, Grant } from 'oidc-provider';
import type { Queryable } from '../db/database.js';
import { findConsent, saveConsent } from '../store/consents.js';
import { CONSOLE_CLIENT_ID } from '../services/console-client.js';
import { ACCOUNT_CLIENT_ID } from '../services/account-client.js';
import { MANAGEMENT_SCOPES, managementApiIdentifier } from '../services/management-api.js';

/**
 * Finds the grant an authorization request can use without asking the user again: the one just
 * consented to, or the one in this browser session, or a new one; in each case holding at least
 * what this user has consented to for this client before (remembered across sessions, unlike
 * oidc-provider's default). A session grant is topped up too: consent given in another browser
 * after this session began counts here as well.
 */
export function existingGrantLoader(db: Queryable, issuer: string) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { Grant } = ctx.oidc.provider;
    const clientId = ctx.oidc.client!.clientId;
    const accountId = ctx.oidc.session!.accountId;
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
    const found = grantId ? await Grant.find(grantId) : undefined;
    if (clientId === CONSOLE_CLIENT_ID && accountId) return firstPartyGrant(ctx, found, accountId, clientId, (g) => {
      g.addOIDCScope('openid profile email');
      g.addResourceScope(managementApiIdentifier(issuer), Object.keys(MANAGEMENT_SCOPES).join(' '));
    });
    // /account only needs to know who is signed in.
    if (clientId === ACCOUNT_CLIENT_ID && accountId) return firstPartyGrant(ctx, found, accountId, clientId, (g) => g.addOIDCScope('openid'));
    const consent = accountId ? await findConsent(db, accountId, clientId) : undefined;
    // The remembered consent is what allows asking nobody: a grant in this browser session whose
    // consent has since been forgotten (its client's redirect URIs changed) is not reused silently.
    // A grant consented to in this very request stands.
    if (!consent) return ctx.oidc.result?.consent?.grantId ? found : undefined;
    // oidc-provider refuses a grant of another account (load_grant.js); such a grant gets no top-up.
    if (found && found.accountId !== accountId) return found;
    const grant = found ?? new Grant({ accountId, clientId });
    const before = snapshot(grant);
    if (consent.oidcScope) grant.addOIDCScope(consent.oidcScope);
    if (consent.oidcClaims.length) grant.addOIDCClaims(consent.oidcClaims);
    for (const [resource, scope] of Object.entries(consent.resources)) if (scope) grant.addResourceScope(resource, scope);
    if (!found || snapshot(grant) !== before) await grant.save();
    return grant;
  };
}

/**
 * The console and /account are part of this server, so signing in to them asks for no consent. The
 * console's grant covers the identity scopes and every Management API permission; what a token
 * carries is still bounded by the user's roles at that moment (the Management API enforces roles,
 * server/oidc/resources.ts), so the grant gives nobody more than their roles do.
 */
async function firstPartyGrant(ctx: KoaContextWithOIDC, found: Grant | undefined, accountId: string, clientId: string, fill: (grant: Grant) => void): Promise<Grant> {
  const grant = found && found.accountId === accountId ? found : new ctx.oidc.provider.Grant({ accountId, clientId });
  const before = snapshot(grant);
  fill(grant);
  if (grant !== found || snapshot(grant) !== before) await grant.save();
  return grant;
}

const snapshot = (grant: Grant) => JSON.stringify([grant.openid ?? null, grant.resources ?? null]);

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
