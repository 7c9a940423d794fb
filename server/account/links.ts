import type Router from '@koa/router';
import type { Context } from 'koa';
import { HashingBusyError, hashingFull } from '../crypto/passwords.js';
import { readForm } from '../http/form.js';
import { sendHtml } from '../http/pages.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import { peekLink } from '../services/account-links.js';
import { ResetRefusedError, completePasswordReset, requestPasswordReset } from '../services/password-reset.js';
import { verifyEmail } from '../services/email-verification.js';
import { forgotPage, linkDonePage, resetPage, resetSentPage, verifyPage } from '../../views/password-reset.js';
import { type AccountDeps, passwordRuleText } from './deps.js';

const EXPIRED = ['This link has expired', 'It was already used, or is too old. Ask for a new one.'] as const;
const tokenOf = (ctx: Context) => (typeof ctx.query.token === 'string' ? ctx.query.token : undefined);

/**
 * "Forgot password?", the reset link's page and the verification link's page. None of them needs a
 * session, and none is open to cross-site request forgery in a way that matters: the forms behind a
 * link carry the link's token, which a forger does not have, and asking for a reset link for an
 * address is something anyone may do from anywhere.
 */
export function mountLinkRoutes(router: Router, deps: AccountDeps): void {
  const mailConfigured = Boolean(deps.mailer);

  router.get('/forgot', (ctx) => sendHtml(ctx, forgotPage({ mailConfigured })));

  router.post('/forgot', async (ctx) => {
    const form = await readForm(ctx);
    const email = (form.get('email') ?? '').trim();
    if (!mailConfigured) return sendHtml(ctx, forgotPage({ mailConfigured }), 404);
    if (!email || email.length > 320 || !email.includes('@')) {
      return sendHtml(ctx, forgotPage({ mailConfigured, email, error: 'Enter the email address of your account.' }), 400);
    }
    const wait = await requestPasswordReset(deps, email, normaliseIp(ctx.ip));
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      const minutes = Math.ceil(wait / 60);
      return sendHtml(ctx, forgotPage({ mailConfigured, email, error: `Too many requests. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }), 429);
    }
    sendHtml(ctx, resetSentPage());
  });

  router.get('/reset', async (ctx) => {
    const token = tokenOf(ctx);
    const link = await peekLink(deps.db, token, 'password_reset');
    if (!link) return sendHtml(ctx, linkDonePage(...EXPIRED, { href: '/account/forgot', text: 'Ask for a new link' }), 400);
    sendHtml(ctx, resetPage({ token: token!, email: link.email, passwordRule: passwordRuleText() }));
  });

  router.post('/reset', async (ctx) => {
    if (hashingFull()) throw new HashingBusyError();
    const form = await readForm(ctx);
    const token = form.get('token');
    const next = form.get('new_password') ?? '';
    try {
      await completePasswordReset(deps.db, token, next, normaliseIp(ctx.ip));
    } catch (err) {
      if (!(err instanceof ResetRefusedError)) throw err;
      const link = await peekLink(deps.db, token, 'password_reset');
      if (!link) return sendHtml(ctx, linkDonePage(...EXPIRED, { href: '/account/forgot', text: 'Ask for a new link' }), 400);
      return sendHtml(ctx, resetPage({ token: token!, email: link.email, error: err.message, passwordRule: passwordRuleText() }), 400);
    }
    sendHtml(ctx, linkDonePage('Your password is changed', 'You have been signed out everywhere. Sign in with your new password.', { href: '/account', text: 'Sign in' }));
  });

  router.get('/verify', async (ctx) => {
    const token = tokenOf(ctx);
    const link = await peekLink(deps.db, token, 'email_verification');
    if (!link) return sendHtml(ctx, linkDonePage(...EXPIRED), 400);
    // Confirming is a POST, so a mail scanner that fetches every link does not verify for the person.
    sendHtml(ctx, verifyPage({ token: token!, email: link.email }));
  });

  router.post('/verify', async (ctx) => {
    const form = await readForm(ctx);
    const ip = normaliseIp(ctx.ip);
    const verified = await deps.db.transaction((tx) => verifyEmail(tx, form.get('token'), ip));
    if (!verified) return sendHtml(ctx, linkDonePage(...EXPIRED), 400);
    sendHtml(ctx, linkDonePage('Your email is confirmed', 'Thank you. Applications you sign in to can now rely on this address.', { href: '/account', text: 'Go to your account' }));
  });
}
