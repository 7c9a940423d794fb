import { digest, randomToken } from '../crypto/tokens.js';
import type { Queryable } from '../db/database.js';
import { type AccountLink, type LinkPurpose, findOpenAccountLink, insertAccountLink, useAccountLink } from '../store/account-links.js';

/**
 * Single-use links for a password reset or an email verification (OWASP ASVS 2.5.1, 2.5.2): 256
 * random bits in the link, only their SHA-256 digest stored (a slow hash would add nothing to a
 * value nobody can guess), a short life for a reset and a day for a verification.
 */
export const LINK_TTL: Record<LinkPurpose, number> = {
  password_reset: 30 * 60,
  email_verification: 24 * 3600,
};

const PATHS: Record<LinkPurpose, string> = {
  password_reset: '/account/reset',
  email_verification: '/account/verify',
};

/**
 * The URL a person follows. The token is in the query string, which the request log never writes,
 * and pages send no Referer (Referrer-Policy: no-referrer).
 */
export const linkUrl = (issuer: string, purpose: LinkPurpose, token: string) => `${issuer}${PATHS[purpose]}?token=${token}`;

/** A new link for the user; the token is in the returned URL only. */
export async function issueLink(tx: Queryable, issuer: string, link: { userId: string; purpose: LinkPurpose; email: string }) {
  const token = randomToken(32);
  const expiresAt = await insertAccountLink(tx, { ...link, tokenHash: digest(token), ttlSeconds: LINK_TTL[link.purpose] });
  return { url: linkUrl(issuer, link.purpose, token), expiresAt };
}

/** A token as it arrives from a link: 43 base64url characters, anything else names no link. */
const plausible = (token: string | undefined): token is string => typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token);

export async function peekLink(q: Queryable, token: string | undefined, purpose: LinkPurpose): Promise<AccountLink | undefined> {
  return plausible(token) ? findOpenAccountLink(q, digest(token), purpose) : undefined;
}

/** Uses the link (once, atomically); undefined when it is unknown, used or expired. */
export async function useLink(tx: Queryable, token: string | undefined, purpose: LinkPurpose): Promise<AccountLink | undefined> {
  return plausible(token) ? useAccountLink(tx, digest(token), purpose) : undefined;
}
