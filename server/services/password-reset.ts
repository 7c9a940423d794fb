import { z } from 'zod';
import type { Database } from '../db/database.js';
import { hashPassword } from '../crypto/passwords.js';
import { closeAccountLinks } from '../store/account-links.js';
import { findUserByEmail, findUserById, updateUserFields } from '../store/users.js';
import { resetMail } from '../../views/mail.js';
import { type AccountMailDeps, countMailRequest, inBackground, send } from './account-mail.js';
import { LINK_TTL, issueLink, useLink } from './account-links.js';
import { recordAudit } from './audit.js';
import { assertMayActOnUser } from './delegation.js';
import { notFound } from './errors.js';
import type { Principal } from './principal.js';
import { timestamp } from './validation.js';
import { endUserAccess, password } from './users.js';

/**
 * Someone asks for a reset link for `email`. The answer is the same whether or not an account has
 * that address (OWASP ASVS 2.5.2 / 3.6): the lookup and the mail happen after the response. Returns
 * the seconds to wait when the address or the recipient asked too often, else 0.
 */
export async function requestPasswordReset(deps: AccountMailDeps, email: string, ip: string): Promise<number> {
  const wait = await countMailRequest(deps.protection, email, ip);
  if (wait > 0) return wait;
  inBackground(deps.logger, 'password_reset.mail', async () => {
    const user = await findUserByEmail(deps.db, email);
    if (!user || !user.active || !deps.mailer) return;
    const link = await deps.db.transaction(async (tx) => {
      const issued = await issueLink(tx, deps.issuer, { userId: user.id, purpose: 'password_reset', email: user.email });
      await recordAudit(tx, { type: 'user.password_reset_requested', actor: { type: 'anonymous', ip }, target: { type: 'user', id: user.id } });
      return issued;
    });
    await send(deps, { to: user.email, ...resetMail({ name: user.name, url: link.url, ttlSeconds: LINK_TTL.password_reset }) });
  });
  return 0;
}

/** Why a reset could not be completed, in words for the person. */
export class ResetRefusedError extends Error {}

/**
 * Sets the new password through a reset link: the link is used once, the password rules apply, and
 * what the old password started ends (endUserAccess: every session, grant and refresh token).
 */
export async function completePasswordReset(db: Database, token: string | undefined, newPassword: string, ip: string): Promise<void> {
  const checked = password.safeParse(newPassword);
  if (!checked.success) throw new ResetRefusedError(checked.error.issues[0]?.message ?? 'this password cannot be used');
  const passwordHash = await hashPassword(newPassword);
  await db.transaction(async (tx) => {
    const link = await useLink(tx, token, 'password_reset');
    if (!link) throw new ResetRefusedError('This link has expired or was already used. Ask for a new one.');
    const user = await findUserById(tx, link.userId);
    if (!user || !user.active) throw new ResetRefusedError('This account cannot sign in. Ask an administrator.');
    await updateUserFields(tx, user.id, { passwordHash });
    await closeAccountLinks(tx, user.id, 'password_reset');
    const revoked = await endUserAccess(tx, user.id, 'password_changed', { type: 'user', id: user.id, ip });
    await recordAudit(tx, { type: 'user.password_reset', actor: { type: 'user', id: user.id, ip }, target: { type: 'user', id: user.id }, data: { revoked_artifacts: revoked } });
  });
}

export const resetLinkSchema = z.strictObject({
  url: z.string().meta({ description: 'The link to hand to the person. Shown once: only its digest is stored.' }),
  expires_at: timestamp,
});

/**
 * An administrator makes a reset link to hand over (where no SMTP is configured, or the person cannot
 * read their mail). Acting on the user, so the delegation rule applies: nobody can take over an
 * account that holds more than they do.
 */
export async function createResetLink(db: Database, issuer: string, userId: string, caller: Principal): Promise<z.infer<typeof resetLinkSchema>> {
  return db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw notFound(`user ${userId}`);
    await assertMayActOnUser(tx, caller, user.id);
    const link = await issueLink(tx, issuer, { userId: user.id, purpose: 'password_reset', email: user.email });
    await recordAudit(tx, { type: 'user.reset_link_created', actor: caller.actor, target: { type: 'user', id: user.id }, data: { expires_at: link.expiresAt.toISOString() } });
    return { url: link.url, expires_at: link.expiresAt.toISOString() };
  });
}
