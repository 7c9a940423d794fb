import { randomBytes } from 'node:crypto';
import { digest } from './tokens.js';

/**
 * Credentials we hand out: `sk_live_…` client secrets and `ak_live_…` API keys (`_test_` for test
 * environments). Layout after the kind and environment: 12 characters of lookup id, 32 of secret,
 * 6 of checksum, all base62. The checksum (CRC-32 of everything before it) lets secret scanners
 * recognise a real credential offline without calling us; the lookup id finds the row without the
 * secret ever being a key; only the SHA-256 digest of the whole credential is stored.
 */
export type CredentialKind = 'sk' | 'ak';
export type Environment = 'live' | 'test';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 12;
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const PATTERN = /^(sk|ak)_(live|test)_([0-9A-Za-z]{12})([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: discarding bytes above it keeps every character equally likely.
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface IssuedCredential {
  /** The whole credential: shown once, never stored. */
  value: string;
  /** Non-secret head used to find the row: `ak_live_0123456789AB`. */
  prefix: string;
  /** SHA-256 digest of the value: what is stored. */
  hash: string;
}

export function issueCredential(kind: CredentialKind, environment: Environment): IssuedCredential {
  const head = `${kind}_${environment}_${randomBase62(ID_LENGTH)}`;
  const body = head + randomBase62(SECRET_LENGTH);
  const value = body + base62(crc32(body), CHECKSUM_LENGTH);
  return { value, prefix: head, hash: digest(value) };
}

export interface ParsedCredential {
  kind: CredentialKind;
  environment: Environment;
  prefix: string;
}

/** Recognises a credential by shape and checksum; undefined for anything else (no lookup needed). */
export function parseCredential(value: string): ParsedCredential | undefined {
  const m = PATTERN.exec(value);
  if (!m) return undefined;
  const body = value.slice(0, -CHECKSUM_LENGTH);
  if (base62(crc32(body), CHECKSUM_LENGTH) !== m[5]) return undefined;
  return { kind: m[1] as CredentialKind, environment: m[2] as Environment, prefix: `${m[1]}_${m[2]}_${m[3]}` };
}
