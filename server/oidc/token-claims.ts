import type { KoaContextWithOIDC } from 'oidc-provider';

/** Set by the token exchange on its request: the API key the token is exchanged for. */
export interface ExchangeMarks {
  exchangedApiKeyId?: string;
}

/**
 * What a resource server matches revocation events on (README, "Access-token claims"), beside RFC
 * 9068's `sub`, `client_id` and `jti`: `grant_id`, the grant the token was issued under (logout,
 * RFC 7009 revocation and refresh-token reuse revoke a grant), and `api_key_id` for a token exchanged
 * for an API key. Read from the token and the request alone: no round trip on the token path.
 */
export async function accessTokenClaims(ctx: KoaContextWithOIDC | undefined, token: { grantId?: string }) {
  const claims: Record<string, string> = {};
  if (token.grantId) claims.grant_id = token.grantId;
  const keyId = (ctx?.state as ExchangeMarks | undefined)?.exchangedApiKeyId;
  if (keyId) claims.api_key_id = keyId;
  return claims;
}
