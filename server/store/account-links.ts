import type { Queryable } from '../db/database.js';

export type LinkPurpose = 'password_reset' | 'email_verification';

export interface AccountLink {
  userId: string;
  purpose: LinkPurpose;
  email: string;
  expiresAt: Date;
}

interface Row {
  user_id: string;
  purpose: LinkPurpose;
  email: string;
  expires_at: Date;
}

const toLink = (r: Row): AccountLink => ({ userId: r.user_id, purpose: r.purpose, email: r.email, expiresAt: new Date(r.expires_at) });

/** Stores a link under the digest of its token (never the token itself). */
export async function insertAccountLink(
  db: Queryable,
  link: { tokenHash: string; userId: string; purpose: LinkPurpose; email: string; ttlSeconds: number },
): Promise<Date> {
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO account_links (token_hash, user_id, purpose, email, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int)) RETURNING expires_at`,
    [link.tokenHash, link.userId, link.purpose, link.email, link.ttlSeconds],
  );
  return new Date(rows[0].expires_at);
}

/** The link if it is open (unused and unexpired), without using it: what the form behind it shows. */
export async function findOpenAccountLink(db: Queryable, tokenHash: string, purpose: LinkPurpose): Promise<AccountLink | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT user_id, purpose, email, expires_at FROM account_links
     WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()`,
    [tokenHash, purpose],
  );
  return rows[0] && toLink(rows[0]);
}

/**
 * Uses an open link, atomically: of two concurrent calls exactly one gets it (the row lock behind
 * "used_at IS NULL"), the other undefined, as for a used, expired or unknown link.
 */
export async function useAccountLink(db: Queryable, tokenHash: string, purpose: LinkPurpose): Promise<AccountLink | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE account_links SET used_at = now()
     WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
     RETURNING user_id, purpose, email, expires_at`,
    [tokenHash, purpose],
  );
  return rows[0] && toLink(rows[0]);
}

/** Closes the user's other open links of this purpose (a completed reset leaves none usable). */
export async function closeAccountLinks(db: Queryable, userId: string, purpose: LinkPurpose): Promise<void> {
  await db.query('UPDATE account_links SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL', [userId, purpose]);
}

/** Deletes links past their expiry (used ones too): nothing reads them after that. */
export async function sweepAccountLinks(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM account_links WHERE expires_at < now()');
  return rowCount;
}
