import type { Queryable } from '../db/database.js';
import { findUserById, markEmailVerified } from '../store/users.js';
import { verificationMail } from '../../views/mail.js';
import { type AccountMailDeps, countMailRequest, inBackground, send } from './account-mail.js';
import { LINK_TTL, issueLink, useLink } from './account-links.js';
import { recordAudit } from './audit.js';
import type { Actor } from './audit.js';

/**
 * Sends a verification link to the user's current address, after the caller's response (a user
 * created or their email changed, or a resend from /account). Nothing happens without SMTP.
 */
export function sendVerification(deps: AccountMailDeps, userId: string, actor: Actor): void {
  if (!deps.mailer) return;
  inBackground(deps.logger, 'email_verification.mail', async () => {
    const user = await findUserById(deps.db, userId);
    if (!user || user.emailVerified) return;
    const link = await deps.db.transaction(async (tx) => {
      const issued = await issueLink(tx, deps.issuer, { userId: user.id, purpose: 'email_verification', email: user.email });
      await recordAudit(tx, { type: 'user.verification_sent', actor, target: { type: 'user', id: user.id } });
      return issued;
    });
    await send(deps, { to: user.email, ...verificationMail({ name: user.name, url: link.url, ttlSeconds: LINK_TTL.email_verification }) });
  });
}

/** A resend asked for on /account, limited like reset requests. Seconds to wait, or 0 once queued. */
export async function resendVerification(deps: AccountMailDeps, userId: string, email: string, ip: string): Promise<number> {
  const wait = await countMailRequest(deps.protection, email, ip);
  if (wait === 0) sendVerification(deps, userId, { type: 'user', id: userId, ip });
  return wait;
}

/**
 * Follows a verification link: the address it was sent to becomes verified, if it is still the
 * user's (an email changed since leaves the new one unverified). False for a used, expired or
 * unknown link, or an address that is no longer the user's.
 */
export async function verifyEmail(tx: Queryable, token: string | undefined, ip: string): Promise<boolean> {
  const link = await useLink(tx, token, 'email_verification');
  if (!link) return false;
  const marked = await markEmailVerified(tx, link.userId, link.email);
  if (marked) await recordAudit(tx, { type: 'user.email_verified', actor: { type: 'user', id: link.userId, ip }, target: { type: 'user', id: link.userId }, data: { email: link.email } });
  return marked;
}
