/** Identity scopes (OIDC Core §5.4 and §11). Every other scope belongs to a registered API. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;

const oidc = new Set<string>(OIDC_SCOPES);

export function isOidcScope(scope: string): boolean {
  return oidc.has(scope);
}

export function splitScope(scope: unknown): string[] {
  return typeof scope === 'string' ? [...new Set(scope.split(' ').filter(Boolean))] : [];
}

/** Claims released per identity scope (OIDC Core §5.4). */
export const CLAIMS = {
  // acr and amr (OIDC Core §2; RFC 8176) say how the person signed in: every ID token carries them.
  openid: ['sub', 'acr', 'amr'],
  profile: ['name', 'updated_at'],
  email: ['email', 'email_verified'],
};
