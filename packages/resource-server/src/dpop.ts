import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { TokenError } from './errors.js';

export interface DpopRequest {
  /** The DPoP header's value. */
  proof: string | undefined;
  method: string;
  /** The request's absolute URL as the client called it (query and fragment are ignored, RFC 9449 §4.3). */
  url: string;
}

const refuse = (description: string) => new TokenError(401, 'invalid_dpop_proof', description);
const withoutQuery = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

/**
 * RFC 9449 §4.3 and §7.1: a token bound to a key (cnf.jkt) is accepted only with a proof signed by
 * that key, for this method and URL, recent, and naming this token (ath). Replay of a proof within
 * its lifetime is not tracked here (§11.1): pair with TLS, as the RFC requires.
 */
export async function checkDpop(token: string, jkt: string, req: DpopRequest | undefined, maxAgeSeconds = 60): Promise<void> {
  if (!req?.proof) throw refuse('this token is bound to a key: send a DPoP proof');
  let header;
  let payload;
  try {
    ({ payload, protectedHeader: header } = await jwtVerify(req.proof, EmbeddedJWK, { typ: 'dpop+jwt', maxTokenAge: `${maxAgeSeconds}s`, clockTolerance: 5 }));
  } catch {
    throw refuse('the DPoP proof is not valid');
  }
  if ((await calculateJwkThumbprint(header.jwk!)) !== jkt) throw refuse('the DPoP proof is signed by another key than the token is bound to');
  if (payload.htm !== req.method.toUpperCase()) throw refuse('the DPoP proof is for another method');
  if (typeof payload.htu !== 'string' || !URL.canParse(payload.htu) || withoutQuery(payload.htu) !== withoutQuery(req.url)) {
    throw refuse('the DPoP proof is for another URL');
  }
  if (payload.ath !== createHash('sha256').update(token).digest('base64url')) throw refuse('the DPoP proof is for another token');
}
