import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { digest } from '../crypto/tokens.js';
import { countUnusedRecoveryCodes, replaceRecoveryCodes, useRecoveryCode } from '../store/recovery-codes.js';

/** Letters and digits without 0/o and 1/l: 32 of them, 5 bits each. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const COUNT = 10;
const LENGTH = 16; // 80 bits: with the sign-in limits, no guessing attack reaches one

/** What a person typed, as stored: lower case, without spaces or dashes. */
const normalise = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

function newCode(): string {
  const bytes = randomBytes(LENGTH);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/**
 * Ten new single-use recovery codes, replacing any earlier ones. Only their SHA-256 digests are
 * stored: the codes are shown once, here (OWASP ASVS 2.6.2).
 */
export async function newRecoveryCodes(db: Queryable, userId: string): Promise<string[]> {
  const codes = Array.from({ length: COUNT }, newCode);
  await replaceRecoveryCodes(db, userId, codes.map((c) => digest(normalise(c))));
  return codes;
}

/** Spends a recovery code: true once for each code, false for anything else. */
export async function spendRecoveryCode(db: Queryable, userId: string, code: string): Promise<boolean> {
  const n = normalise(code);
  return n.length === LENGTH && useRecoveryCode(db, userId, digest(n));
}

export const recoveryCodesLeft = countUnusedRecoveryCodes;
