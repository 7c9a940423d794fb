import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import { signedValues } from '../crypto/signed-values.js';
import { readForm } from '../http/form.js';
import { sendHtml } from '../http/pages.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import type { Actor } from '../services/audit.js';
import { recordAudit } from '../services/audit.js';
import { passkeyAnswer, passkeyName, passkeysOfUser, registerPasskey, registrationOptions, relyingPartyOf, removePasskey, renamePasskey } from '../services/passkeys.js';
import type { Protection } from '../services/protection/index.js';
import { newRecoveryCodes, recoveryCodesLeft } from '../services/recovery-codes.js';
import { confirmTotp, removeTotp, startTotpEnrolment } from '../services/totp.js';
import { roleRequiresTwoFactors } from '../services/two-factor-policy.js';
import { findTotp } from '../store/totp.js';
import type { User } from '../store/users.js';
import { accountRecoveryCodesPage, accountSecurityPage, accountTotpEnrolPage, signInNeededPage } from '../../views/account-security.js';
import { errorPage, errorViewFor } from '../../views/error.js';
import { csrfTokens } from './csrf.js';
import { signInUrl } from '../services/account-client.js';
import { signedInPerson } from './account-session.js';

export interface AccountSecurityDeps {
  provider: () => Provider;
  db: Database;
  cookieSecrets: readonly string[];
  protection: Protection;
  sealer: Sealer;
  issuer: string;
  /** ACCOUNT_REAUTH_SECONDS: how recent a sign-in must be to add or remove a second factor. */
  reauthSeconds: number;
}

const BASE = '/account/security';

/**
 * /account/security (issue 13): a signed-in person manages their own second factors. Pages are
 * server-rendered like the login pages, with the same CSRF tokens, bound here to the browser
 * session instead of an interaction. Every change is audited with the person as the actor.
 */
export function accountSecurityRoutes({ provider, db, cookieSecrets, protection, sealer, issuer, reauthSeconds }: AccountSecurityDeps): Router {
  const router = new Router({ prefix: BASE });
  const csrf = csrfTokens(cookieSecrets);
  const signer = signedValues(cookieSecrets);
  const rp = relyingPartyOf(issuer);
  const binding = (sessionUid: string) => `account:${sessionUid}`;

  interface Person {
    user: User;
    sessionUid: string;
    loginTs: number;
    token: string;
    actor: Actor;
  }

  async function person(ctx: Context): Promise<Person | undefined> {
    const found = await signedInPerson(ctx, provider(), db);
    if (!found) {
      // A page asked for by its address signs in and comes back here; a posted form is not repeated.
      if (ctx.method === 'GET') {
        ctx.status = 303;
        ctx.redirect(signInUrl(issuer, { back: 'security' }));
      } else {
        sendHtml(ctx, signInNeededPage(), 401);
      }
      return undefined;
    }
    return { ...found, token: csrf.issue(binding(found.sessionUid)), actor: { type: 'user', id: found.user.id, ip: normaliseIp(ctx.ip) } };
  }

  /** The person, and their form if its CSRF token belongs to their session. */
  async function withForm(ctx: Context): Promise<{ p: Person; form: Map<string, string> } | undefined> {
    const p = await person(ctx);
    if (!p) return undefined;
    const form = await readForm(ctx);
    if (!csrf.verify(binding(p.sessionUid), form.get('csrf'))) {
      sendHtml(ctx, errorPage(errorViewFor({ error: 'form_expired' })), 400);
      return undefined;
    }
    return { p, form };
  }

  async function overview(ctx: Context, p: Person, message: { notice?: string; error?: string; reauth?: string } = {}, status = 200) {
    const [totp, left, passkeys, required] = await Promise.all([
      findTotp(db, p.user.id),
      recoveryCodesLeft(db, p.user.id),
      passkeysOfUser(db, p.user.id),
      roleRequiresTwoFactors(db, p.user.id),
    ]);
    sendHtml(
      ctx,
      accountSecurityPage({ csrf: p.token, email: p.user.email, totp: totp?.confirmedAt ? { since: totp.confirmedAt } : undefined, recoveryCodesLeft: left, passkeys, required, passkeysAvailable: rp.available, ...message }),
      status,
      { scripts: rp.available },
    );
  }

  /**
   * Adding or removing a second factor, or replacing the recovery codes, needs a recent sign-in
   * (OWASP ASVS 3.7.1): someone holding only a stolen session cookie can neither plant a factor of
   * their own nor take away the owner's. Answers the refusal and returns false when it is too old.
   */
  async function recentSignIn(ctx: Context, p: Person, json = false): Promise<boolean> {
    if (Date.now() / 1000 - p.loginTs <= reauthSeconds) return true;
    const error = 'For your security, sign in again before changing how you sign in.';
    const reauth = signInUrl(issuer, { back: 'security', again: true });
    if (json) {
      ctx.status = 403;
      ctx.body = { error: 'login_required', error_description: error, location: reauth };
    } else {
      await overview(ctx, p, { error, reauth }, 403);
    }
    return false;
  }

  const back = (ctx: Context) => {
    ctx.status = 303;
    ctx.redirect(BASE);
  };

  router.get('/', async (ctx) => {
    const p = await person(ctx);
    if (p) await overview(ctx, p);
  });
  // The recovery-codes page's "Done" posts here (its form is shared with the sign-in step).
  router.post('/', async (ctx) => {
    if (await withForm(ctx)) back(ctx);
  });

  async function enrolPage(ctx: Context, p: Person, error?: string, status = 200) {
    const e = await startTotpEnrolment(db, sealer, issuer, p.user);
    sendHtml(ctx, accountTotpEnrolPage({ csrf: p.token, qr: e.qr, secret: e.secret, error }), status);
  }

  router.get('/totp', async (ctx) => {
    const p = await person(ctx);
    if (!p || !(await recentSignIn(ctx, p))) return;
    if ((await findTotp(db, p.user.id))?.confirmedAt) return back(ctx);
    await enrolPage(ctx, p);
  });

  router.post('/totp', async (ctx) => {
    const f = await withForm(ctx);
    if (!f || !(await recentSignIn(ctx, f.p))) return;
    // Guesses at the confirmation code are limited like passwords (the login limiter).
    const guesses = protection.login.of(f.p.user, ctx.ip);
    const wait = await guesses.retryAfter();
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return enrolPage(ctx, f.p, `Too many wrong codes. Try again in ${Math.ceil(wait / 60)} minute(s).`, 429);
    }
    const codes = await confirmTotp(db, sealer, f.p.user.id, (f.form.get('code') ?? '').slice(0, 64), f.p.actor);
    if (!codes) {
      await guesses.failed();
      return enrolPage(ctx, f.p, 'That code is not right. Check the time on your phone and try the next code.', 401);
    }
    sendHtml(ctx, accountRecoveryCodesPage(codes, f.p.token));
  });

  router.post('/totp/remove', async (ctx) => {
    const f = await withForm(ctx);
    if (!f || !(await recentSignIn(ctx, f.p))) return;
    const removed = await removeTotp(db, f.p.user.id, f.p.actor);
    await overview(ctx, f.p, removed ? { notice: 'The authenticator app was removed, with its recovery codes.' } : {});
  });

  router.post('/recovery-codes', async (ctx) => {
    const f = await withForm(ctx);
    if (!f || !(await recentSignIn(ctx, f.p))) return;
    if (!(await findTotp(db, f.p.user.id))?.confirmedAt) return overview(ctx, f.p, { error: 'Recovery codes come with an authenticator app: set one up first.' }, 409);
    const codes = await db.transaction(async (tx) => {
      const made = await newRecoveryCodes(tx, f.p.user.id);
      await recordAudit(tx, { type: 'user.recovery_codes_regenerated', actor: f.p.actor, target: { type: 'user', id: f.p.user.id } });
      return made;
    });
    sendHtml(ctx, accountRecoveryCodesPage(codes, f.p.token));
  });

  const jsonError = (ctx: Context, description: string) => {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: description };
  };

  router.post('/passkeys/options', async (ctx) => {
    const f = await withForm(ctx);
    if (f && (await recentSignIn(ctx, f.p, true))) ctx.body = await registrationOptions(db, signer, rp, f.p.user, binding(f.p.sessionUid));
  });

  router.post('/passkeys', async (ctx) => {
    const f = await withForm(ctx);
    if (!f || !(await recentSignIn(ctx, f.p, true))) return;
    const name = passkeyName.safeParse(f.form.get('name') ?? '');
    if (!name.success) return jsonError(ctx, name.error.issues[0].message);
    const response = passkeyAnswer(f.form);
    if (response === undefined) return jsonError(ctx, 'response: expected the passkey’s answer as JSON');
    const id = await registerPasskey(db, signer, rp, f.p.user.id, binding(f.p.sessionUid), response, name.data, f.p.actor);
    if (!id) return jsonError(ctx, 'This passkey could not be added. Try again.');
    ctx.body = { location: BASE };
  });

  router.post('/passkeys/:id/rename', async (ctx) => {
    const f = await withForm(ctx);
    if (!f) return;
    const name = passkeyName.safeParse(f.form.get('name') ?? '');
    if (!name.success) return overview(ctx, f.p, { error: name.error.issues[0].message }, 400);
    const ok = await renamePasskey(db, f.p.user.id, ctx.params.id, name.data, f.p.actor);
    await overview(ctx, f.p, ok ? { notice: `Renamed to ${name.data}.` } : { error: 'That passkey is not yours or no longer exists.' }, ok ? 200 : 404);
  });

  router.post('/passkeys/:id/remove', async (ctx) => {
    const f = await withForm(ctx);
    if (!f || !(await recentSignIn(ctx, f.p))) return;
    const ok = await removePasskey(db, f.p.user.id, ctx.params.id, f.p.actor);
    await overview(ctx, f.p, ok ? { notice: 'The passkey was removed.' } : { error: 'That passkey is not yours or no longer exists.' }, ok ? 200 : 404);
  });

  return router;
}
