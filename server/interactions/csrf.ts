import { createHmac } from 'node:crypto';
import { digestsEqual } from '../crypto/tokens.js';

/**
 * CSRF tokens for the interaction forms, bound to one interaction: HMAC(cookie secret, uid). The
 * first secret signs, all verify, so tokens survive a cookie-secret rotation like cookies do.
 */
export function csrfTokens(secrets: readonly string[]) {
  const sign = (secret: string, uid: string) => createHmac('sha256', secret).update(`csrf:${uid}`).digest('base64url');
  return {
    issue: (uid: string) => sign(secrets[0], uid),
    verify: (uid: string, token: string | undefined) =>
      typeof token === 'string' && secrets.some((s) => digestsEqual(sign(s, uid), token)),
  };
}
