import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A resource server's check of Gatehouse access tokens, with nothing but the JWKS and `jose`
 * (README, "Validating access tokens in a resource server"; test/protocol/dpop-par.test.ts runs it).
 * A token bound to a DPoP key (cnf.jkt, RFC 9449) is accepted only with the DPoP scheme and a fresh
 * proof signed by that key; presented as a plain Bearer token it is refused (RFC 9449 §7.1).
 */
export function accessTokenCheck(issuer: string, audience: string) {
  // Fetched on first use and cached; refetched when a token names a key id it has not seen.
  const jwks = createRemoteJWKSet(new URL(`${issuer}/oauth/jwks`));
  const seenProofs = new Map<string, number>(); // proof jti -> when it may be forgotten (RFC 9449 §11.1)

  return async function authenticate(request: { method: string; url: string; authorization?: string; dpop?: string }) {
    const [scheme, token] = request.authorization?.split(' ') ?? [];
    if (!token || !/^(Bearer|DPoP)$/i.test(scheme)) throw new Error('invalid_token: no access token');
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience, // this API's identifier
      typ: 'at+jwt', // RFC 9068: refuses ID tokens and other JWTs
      algorithms: ['RS256', 'PS256', 'ES256'],
    });
    const jkt = (payload.cnf as { jkt?: string } | undefined)?.jkt;
    if (!jkt) {
      if (!/^Bearer$/i.test(scheme)) throw new Error('invalid_token: not a DPoP-bound token');
    } else {
      // RFC 9449 §7.1 and §4.3: the DPoP scheme, and a proof of the bound key for this very request.
      if (!/^DPoP$/i.test(scheme) || !request.dpop) throw new Error('invalid_token: a DPoP-bound token needs the DPoP scheme and a proof');
      const { payload: proof, protectedHeader } = await jwtVerify(request.dpop, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: ['ES256', 'EdDSA', 'Ed25519'],
        maxTokenAge: '5 minutes', // iat must be recent
      });
      const target = new URL(request.url);
      if (proof.htm !== request.method || proof.htu !== `${target.origin}${target.pathname}`) throw new Error('invalid_dpop_proof: not for this request');
      if (proof.ath !== createHash('sha256').update(token).digest('base64url')) throw new Error('invalid_dpop_proof: not for this token');
      if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== jkt) throw new Error('invalid_dpop_proof: signed by another key');
      const now = Date.now();
      for (const [jti, until] of seenProofs) if (until < now) seenProofs.delete(jti);
      if (typeof proof.jti !== 'string' || seenProofs.has(proof.jti)) throw new Error('invalid_dpop_proof: replayed');
      seenProofs.set(proof.jti, now + 10 * 60_000);
    }
    const scopes = String(payload.scope ?? '').split(' ');
    return { subject: payload.sub, clientId: payload.client_id as string, scopes, boundTo: jkt };
  };
}
