import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { checkDpopReplay, checkDpopRequired, validateDpop } from 'oidc-provider/lib/helpers/grants.js';

/**
 * DPoP (RFC 9449) for the grant types we register ourselves (token exchange). oidc-provider checks
 * proofs for its own grants with helpers it does not export from its entry point; a registered
 * grant handler gets none of them. We call the same module rather than writing a second check, so a
 * proof means the same here as at every other grant: §4.3 (typ dpop+jwt, an asymmetric alg, the
 * signature with the embedded jwk, htm, htu, iat within the window, a nonce when one is asked for)
 * and a jti used once per client (the provider's ReplayDetection store).
 */
export interface DpopProof {
  thumbprint: string;
  jti: string;
  iat: number;
}

/**
 * The proof in the request's DPoP header, checked, or undefined when there is none; a bad proof is
 * invalid_dpop_proof (RFC 9449 §7.1). A client registered with dpop_bound_access_tokens must send one.
 */
export async function checkedDpopProof(provider: Provider, ctx: KoaContextWithOIDC, clientId: string): Promise<DpopProof | undefined> {
  const proof = await validateDpop(provider, ctx);
  checkDpopRequired(provider, ctx, proof);
  if (proof) await checkDpopReplay(provider, ctx, proof, clientId);
  return proof;
}
