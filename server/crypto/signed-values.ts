import { createHmac, randomBytes } from 'node:crypto';
import { digestsEqual } from './tokens.js';

/**
 * Short-lived values the server hands out and later takes back without storing them: the state of a
 * sign-in between its password and its second factor, and WebAuthn challenges. Each is
 * `expiry.nonce.payload.mac`, the MAC (HMAC-SHA-256 under the cookie secrets: the first signs, all
 * verify) covering a purpose and a binding (an interaction or a session), so a value made for one
 * purpose or one interaction is refused for any other. Every part is base64url, so a value can also
 * be a WebAuthn challenge.
 */
export interface SignedValues {
  issue(purpose: string, binding: string, payload: string, ttlSeconds: number): string;
  /** The payload if the value is ours, for this purpose and binding, and not expired. */
  open(purpose: string, binding: string, value: string | undefined): string | undefined;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

export function signedValues(secrets: readonly string[]): SignedValues {
  const mac = (secret: string, purpose: string, binding: string, body: string) =>
    createHmac('sha256', secret).update(`${purpose}\0${binding}\0${body}`).digest('base64url');
  return {
    issue(purpose, binding, payload, ttlSeconds) {
      const body = `${Math.floor(Date.now() / 1000) + ttlSeconds}.${randomBytes(16).toString('base64url')}.${b64(payload)}`;
      return `${body}.${mac(secrets[0], purpose, binding, body)}`;
    },
    open(purpose, binding, value) {
      if (typeof value !== 'string' || value.length > 2048) return undefined;
      const parts = value.split('.');
      if (parts.length !== 4) return undefined;
      const body = parts.slice(0, 3).join('.');
      if (!secrets.some((s) => digestsEqual(mac(s, purpose, binding, body), parts[3]))) return undefined;
      if (!(Number(parts[0]) > Date.now() / 1000)) return undefined;
      return Buffer.from(parts[2], 'base64url').toString('utf8');
    },
  };
}
