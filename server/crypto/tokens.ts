import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256, base64url: how bearer values (secrets, codes, token ids) become storage keys. Node's
 * one-shot hash(), which skips the Hash object createHash() builds (every token request digests the
 * presented secret).
 */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url');
}

/** Constant-time comparison of two digests (equal length by construction). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
