import type Router from '@koa/router';
import type { Context } from 'koa';
import { HashingBusyError, hashingFull } from '../crypto/passwords.js';
import { readForm } from '../http/form.js';
import { sendHtml } from '../http/pages.js';
import { afterSessionCutoff } from '../interactions/routes.js';
import { csrfTokens } from '../interactions/csrf.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import { allowedApps, withdrawConsent } from '../services/app-access.js';
import { resendVerification } from '../services/email-verification.js';
import { PasswordChangeRefusedError, WrongCurrentPasswordError, changeOwnPassword } from '../services/own-password.js';
import { endSession, recordSessionUse, sessionsOf } from '../services/user-sessions.js';
import { errorPage, errorViewFor } from '../../views/error.js';
import { accountPage } from '../../views/account.js';
import { type AccountDeps, passwordRuleText } from './deps.js';
import { type SignedIn, signedIn } from './session.js';
import { signInUrl } from '../services/account-client.js';

/** What a finished change says at the top of the page it redirects to (303, so a reload repeats nothing). */
const NOTICES: Record<string, string> = {
  password: 'Your password is changed. You are signed out everywhere else.',
  session: 'That session is signed out.',
  app: 'The app’s access is removed. It will have to ask you again.',
  verification: 'We have sent you an email with a link to confirm your address.',
};

const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * /account: for every person, with their Gatehouse session (sign-in first if none). Their password,
 * the browsers they are signed in on, the apps they have allowed, and a link to their second
 * factors (/account/security). Every form carries a CSRF token bound to the session (OWASP ASVS 4.2.2).
 */
export function mountAccountPage(router: Router, deps: AccountDeps): void {
  const csrf = csrfTokens(deps.cookieSecrets);
  const csrfFor = (who: SignedIn) => csrf.issue(`account:${who.session.uid}`);

  async function render(ctx: Context, who: SignedIn, extra: { notice?: string; error?: string } = {}, status = 200) {
    const [sessions, apps] = await Promise.all([sessionsOf(deps.db, who.user.id, who.session.uid), allowedApps(deps.db, who.user.id)]);
    sendHtml(
      ctx,
      accountPage({
        csrf: csrfFor(who),
        email: who.user.email,
        name: who.user.name,
        emailVerified: who.user.emailVerified,
        canSendMail: Boolean(deps.mailer),
        sessions: sessions.map((s) => ({ uid: s.uid, device: s.device, ip: s.ip, lastSeen: when(s.lastSeenAt), current: s.current })),
        apps,
        passwordRule: passwordRuleText(),
        ...extra,
      }),
      status,
    );
  }

  /** Records this visit as a use of the session, as oidc-provider's own saves do (session-tracking.ts). */
  async function seen(ctx: Context, who: SignedIn) {
    const { session, user } = who;
    if (!session.exp || !session.loginTs) return;
    await recordSessionUse(deps.db, { sessionUid: session.uid, userId: user.id, userAgent: ctx.get('user-agent'), ip: normaliseIp(ctx.ip), loginTs: session.loginTs, expiresAt: session.exp, authorizations: session.authorizations });
  }

  /** The signed-in person, or a redirect to sign in (GET) or an error page (a form posted without a session). */
  async function person(ctx: Context): Promise<SignedIn | undefined> {
    const who = await signedIn(ctx, deps.provider(), deps.db);
    if (who) return who;
    if (ctx.method === 'GET') {
      ctx.status = 303;
      ctx.redirect(signInUrl(deps.issuer));
    } else {
      sendHtml(ctx, errorPage({ title: 'You are signed out', message: 'Sign in again, then repeat what you were doing.' }), 401);
    }
    return undefined;
  }

  /** A posted form of a signed-in person, its CSRF token checked against their session. */
  async function posted(ctx: Context): Promise<{ who: SignedIn; form: Map<string, string> } | undefined> {
    const who = await person(ctx);
    if (!who) return undefined;
    const form = await readForm(ctx);
    if (!csrf.verify(`account:${who.session.uid}`, form.get('csrf'))) {
      sendHtml(ctx, errorPage(errorViewFor({ error: 'form_expired' })), 400);
      return undefined;
    }
    return { who, form };
  }

  const done = (ctx: Context, notice: keyof typeof NOTICES) => {
    ctx.status = 303;
    ctx.redirect(`/account?done=${notice}`);
  };

  router.get('/', async (ctx) => {
    const who = await person(ctx);
    if (!who) return;
    await seen(ctx, who);
    const notice = typeof ctx.query.done === 'string' ? NOTICES[ctx.query.done] : undefined;
    await render(ctx, who, { notice });
  });

  // The account client's redirect URI: the session is set by now; the code is not needed.
  router.get('/callback', (ctx) => {
    ctx.status = 303;
    ctx.redirect(ctx.query.state === 'security' ? '/account/security' : '/account');
  });

  router.post('/password', async (ctx) => {
    if (hashingFull()) throw new HashingBusyError();
    const input = await posted(ctx);
    if (!input) return;
    const { who, form } = input;
    // The current password is a secret an attacker with a stolen session cookie could guess here: the
    // guesses count against the same limits as sign-in (NIST SP 800-63B §5.2.2, OWASP ASVS 2.2.1).
    const guesses = deps.protection.login.of(who.user, ctx.ip);
    const wait = await guesses.retryAfter();
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return render(ctx, who, { error: `Too many wrong passwords. Try again in ${Math.ceil(wait / 60)} minute(s).` }, 429);
    }
    try {
      const cutoff = await changeOwnPassword(deps.db, who.user.id, form.get('current_password') ?? '', form.get('new_password') ?? '', who.session.uid, normaliseIp(ctx.ip));
      // Every session of the person ended with the cut-off; this one is signed in again after it
      // (the same second would count as before it, see afterSessionCutoff).
      await afterSessionCutoff(cutoff);
      who.session.loginTs = Math.floor(Date.now() / 1000);
      await who.session.persist();
    } catch (err) {
      if (!(err instanceof PasswordChangeRefusedError)) throw err;
      if (err instanceof WrongCurrentPasswordError) await guesses.failed();
      return render(ctx, who, { error: err.message }, 400);
    }
    await guesses.succeeded();
    done(ctx, 'password');
  });

  router.post('/sessions/:uid/end', async (ctx) => {
    const input = await posted(ctx);
    if (!input) return;
    const ended = await endSession(deps.db, deps.sessions, input.who.user.id, ctx.params.uid, normaliseIp(ctx.ip));
    if (!ended) return render(ctx, input.who, { error: 'That session had already ended.' }, 404);
    done(ctx, 'session');
  });

  router.post('/apps/:client/withdraw', async (ctx) => {
    const input = await posted(ctx);
    if (!input) return;
    const withdrawn = await withdrawConsent(deps.db, input.who.user.id, ctx.params.client, normaliseIp(ctx.ip));
    if (!withdrawn) return render(ctx, input.who, { error: 'That app no longer had access.' }, 404);
    done(ctx, 'app');
  });

  router.post('/verification', async (ctx) => {
    const input = await posted(ctx);
    if (!input) return;
    const { who } = input;
    if (!deps.mailer || who.user.emailVerified) return done(ctx, 'verification');
    const wait = await resendVerification(deps, who.user.id, who.user.email, normaliseIp(ctx.ip));
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return render(ctx, who, { error: `Too many emails asked for. Try again in ${Math.ceil(wait / 60)} minutes.` }, 429);
    }
    done(ctx, 'verification');
  });
}
