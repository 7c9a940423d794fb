import type Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { SignedValues } from '../crypto/signed-values.js';
import { BadRequestError } from '../http/form.js';
import { sendHtml } from '../http/pages.js';
import type { Logger } from '../logger.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import { recordAudit } from '../services/audit.js';
import { authenticationOptions, passkeyAnswer, passkeyName, registerPasskey, registrationOptions, relyingPartyOf, verifyPasskey } from '../services/passkeys.js';
import type { Protection } from '../services/protection/index.js';
import { spendRecoveryCode } from '../services/recovery-codes.js';
import { confirmTotp, startTotpEnrolment, verifyTotp } from '../services/totp.js';
import { acrAsksForTwoFactors, factorKinds, roleRequiresTwoFactors } from '../services/two-factor-policy.js';
import { findUserById, type User } from '../store/users.js';
import { recoveryCodesPage, secondFactorPage, totpEnrolPage } from '../../views/second-factor.js';
import type { csrfTokens } from './csrf.js';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The second step of a sign-in (issue 13), between a right password and the end of the login
 * prompt. Nothing is handed to oidc-provider until the second factor is in, so the authorization
 * endpoint cannot be resumed half-way: the state between the steps is a signed value in a cookie
 * bound to this interaction (crypto/signed-values.ts), naming the account and what it has proved.
 *
 * Wrong codes are counted with the password failures of the account and address (the login limiter,
 * NIST SP 800-63B §5.2.2), and a right password does not reset the count while a second factor is
 * still due, so re-entering the password never buys more guesses at the code.
 */
const STATE_COOKIE = 'gh_signin';
/** Ten minutes for the second step: long enough to find a phone, short enough to go stale. */
const STATE_TTL = 600;

interface SignInState {
  userId: string;
  /** RFC 8176 methods proved so far ("pwd", then "otp" after an enrolment's first code). */
  methods: string[];
}

export interface SignInCompletion {
  (ctx: Context, interaction: Interaction, user: User, methods: string[], twoFactors: boolean, answer: 'redirect' | 'json'): Promise<void>;
}

export interface SecondFactorDeps {
  db: Database;
  logger: Logger;
  protection: Protection;
  sealer: Sealer;
  signer: SignedValues;
  issuer: string;
  csrf: ReturnType<typeof csrfTokens>;
  details(ctx: Context): Promise<Interaction | undefined>;
  checkedForm(ctx: Context, uid: string): Promise<Map<string, string> | undefined>;
  clientName(clientId: unknown): Promise<string>;
  complete: SignInCompletion;
}

const WRONG_CODE = 'That code is not right, or was already used. Try the next one.';
const WRONG_RECOVERY = 'That recovery code is not right, or was already used.';

export function secondFactorRoutes(router: Router, deps: SecondFactorDeps) {
  const { db, logger, protection, sealer, signer, issuer, csrf, details, checkedForm, clientName, complete } = deps;
  const rp = relyingPartyOf(issuer);

  const setState = (ctx: Context, uid: string, state: SignInState | undefined) =>
    ctx.cookies.set(STATE_COOKIE, state ? signer.issue('sign-in', uid, JSON.stringify(state), STATE_TTL) : null, {
      path: `/interaction/${uid}`, httpOnly: true, sameSite: 'lax', secure: ctx.secure, signed: false, maxAge: state ? STATE_TTL * 1000 : undefined,
    });

  function stateOf(ctx: Context, uid: string): SignInState | undefined {
    const raw = signer.open('sign-in', uid, ctx.cookies.get(STATE_COOKIE, { signed: false }));
    if (!raw) return undefined;
    const state = JSON.parse(raw) as SignInState;
    return typeof state.userId === 'string' && Array.isArray(state.methods) ? state : undefined;
  }

  /** The interaction, still at its login prompt, and the sign-in state of its second step. */
  async function pending(ctx: Context) {
    const interaction = await details(ctx);
    if (!interaction) return undefined;
    if (interaction.prompt.name !== 'login') throw new BadRequestError('this sign-in step is already complete');
    const state = stateOf(ctx, interaction.uid);
    const user = state ? await findUserById(db, state.userId) : undefined;
    if (!state || !user || !user.active) {
      // Expired, or the account changed meanwhile: start the sign-in again from the password.
      ctx.status = 303;
      ctx.redirect(`/interaction/${interaction.uid}`);
      return undefined;
    }
    return { interaction, state, user };
  }

  async function finishWith(ctx: Context, interaction: Interaction, user: User, methods: string[], answer: 'redirect' | 'json') {
    setState(ctx, interaction.uid, undefined);
    await complete(ctx, interaction, user, methods, true, answer);
  }

  /** A wrong code costs what a wrong password costs; past the limit the answer is 429. */
  async function countFailure(ctx: Context, user: User, interaction: Interaction, reason: string): Promise<number> {
    const ip = normaliseIp(ctx.ip);
    const failure = await protection.login.of(user, ctx.ip).failed();
    await protection.audit.failure({
      type: 'login.failed',
      actor: { type: 'user', id: user.id, ip },
      target: { type: 'user', id: user.id },
      data: { client_id: interaction.params.client_id, reason },
    });
    if (failure.locked) {
      await recordAudit(db, { type: 'user.locked', actor: { type: 'anonymous', ip }, target: { type: 'user', id: user.id }, data: { failures_from: ip, locked_seconds: failure.retryAfter } });
    }
    return failure.retryAfter;
  }

  const retryAfter = (ctx: Context, user: User) => protection.login.of(user, ctx.ip).retryAfter();

  const throttled = (seconds: number) => `Too many wrong codes. For your security, try again in ${Math.ceil(seconds / 60)} minute(s).`;

  async function renderSecondFactor(ctx: Context, interaction: Interaction, user: User, error?: { method: 'totp' | 'recovery'; message: string }, status = 200) {
    const kinds = await factorKinds(db, user.id);
    sendHtml(
      ctx,
      secondFactorPage({ uid: interaction.uid, csrf: csrf.issue(interaction.uid), clientName: await clientName(interaction.params.client_id), totp: kinds.includes('totp'), passkeys: kinds.includes('passkey'), error }),
      status,
      { scripts: kinds.includes('passkey') },
    );
  }

  async function renderEnrol(ctx: Context, interaction: Interaction, user: User, error?: string, status = 200) {
    const enrolment = await startTotpEnrolment(db, sealer, issuer, user);
    const uid = interaction.uid;
    sendHtml(
      ctx,
      totpEnrolPage({
        action: `/interaction/${uid}/enrol`,
        csrf: csrf.issue(uid),
        qr: enrolment.qr,
        secret: enrolment.secret,
        reason: `${await clientName(interaction.params.client_id)} or your role needs a second step at sign-in. Set one up now to continue.`,
        error,
        passkey: rp.available ? { options: `/interaction/${uid}/passkey-register-options`, action: `/interaction/${uid}/passkey-register` } : undefined,
      }),
      status,
      { scripts: rp.available },
    );
  }

  /**
   * Called by the login route after a right password. Finishes the sign-in when no second factor is
   * due; otherwise sends the browser to the second step, or to enrolment when a second factor is
   * required (by a role, or by the application's acr_values) and the person has none yet (the grace
   * period: they set one up at this sign-in).
   */
  async function afterPassword(ctx: Context, interaction: Interaction, user: User): Promise<void> {
    const kinds = await factorKinds(db, user.id);
    const required = acrAsksForTwoFactors(interaction.params.acr_values) || (await roleRequiresTwoFactors(db, user.id));
    if (!kinds.length && !required) return complete(ctx, interaction, user, ['pwd'], false, 'redirect');
    setState(ctx, interaction.uid, { userId: user.id, methods: ['pwd'] });
    ctx.status = 303;
    ctx.redirect(`/interaction/${interaction.uid}/${kinds.length ? 'second-factor' : 'enrol'}`);
  }

  router.get('/:uid/second-factor', async (ctx) => {
    const p = await pending(ctx);
    if (p) await renderSecondFactor(ctx, p.interaction, p.user);
  });

  router.post('/:uid/second-factor', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    const form = await checkedForm(ctx, p.interaction.uid);
    if (!form) return;
    const method = form.get('method') === 'recovery' ? 'recovery' : 'totp';
    const code = (form.get('code') ?? '').slice(0, 64);
    const wait = await retryAfter(ctx, p.user);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return renderSecondFactor(ctx, p.interaction, p.user, { method, message: throttled(wait) }, 429);
    }
    const ok = method === 'totp' ? await verifyTotp(db, sealer, p.user.id, code) : await spendRecoveryCode(db, p.user.id, code);
    if (!ok) {
      const seconds = await countFailure(ctx, p.user, p.interaction, method === 'totp' ? 'bad_otp' : 'bad_recovery_code');
      if (seconds > 0) ctx.set('Retry-After', String(seconds));
      return renderSecondFactor(ctx, p.interaction, p.user, { method, message: seconds > 0 ? throttled(seconds) : method === 'totp' ? WRONG_CODE : WRONG_RECOVERY }, seconds > 0 ? 429 : 401);
    }
    if (method === 'recovery') {
      await recordAudit(db, { type: 'user.recovery_code_used', actor: { type: 'user', id: p.user.id, ip: normaliseIp(ctx.ip) }, target: { type: 'user', id: p.user.id } });
    }
    await finishWith(ctx, p.interaction, p.user, [...p.state.methods, 'otp'], 'redirect');
  });

  router.get('/:uid/enrol', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    if ((await factorKinds(db, p.user.id)).length) {
      ctx.status = 303;
      ctx.redirect(`/interaction/${p.interaction.uid}/second-factor`);
      return;
    }
    await renderEnrol(ctx, p.interaction, p.user);
  });

  router.post('/:uid/enrol', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    const form = await checkedForm(ctx, p.interaction.uid);
    if (!form) return;
    const wait = await retryAfter(ctx, p.user);
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return renderEnrol(ctx, p.interaction, p.user, throttled(wait), 429);
    }
    const actor = { type: 'user' as const, id: p.user.id, ip: normaliseIp(ctx.ip) };
    const codes = await confirmTotp(db, sealer, p.user.id, (form.get('code') ?? '').slice(0, 64), actor);
    if (!codes) {
      const seconds = await countFailure(ctx, p.user, p.interaction, 'bad_otp');
      return renderEnrol(ctx, p.interaction, p.user, seconds > 0 ? throttled(seconds) : WRONG_CODE, seconds > 0 ? 429 : 401);
    }
    // The first code proved the authenticator: the second factor of this sign-in too.
    setState(ctx, p.interaction.uid, { userId: p.user.id, methods: [...p.state.methods, 'otp'] });
    const uid = p.interaction.uid;
    sendHtml(ctx, recoveryCodesPage({ codes, action: `/interaction/${uid}/continue`, csrf: csrf.issue(uid), button: 'I have saved them: continue' }));
  });

  router.post('/:uid/continue', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    if (!(await checkedForm(ctx, p.interaction.uid))) return;
    if (p.state.methods.length < 2) throw new BadRequestError('the second step of this sign-in is not done');
    await finishWith(ctx, p.interaction, p.user, p.state.methods, 'redirect');
  });

  /** JSON answers for the passkey script (views/passkeys.js): RFC 6749-style errors, 400. */
  const jsonError = (ctx: Context, description: string, status = 400) => {
    ctx.status = status;
    ctx.body = { error: 'invalid_request', error_description: description };
  };

  // Passkey sign-in: the second step (the state names the account) or the first factor (no state:
  // the browser offers the discoverable passkeys it holds for this site).
  router.post('/:uid/passkey-options', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    if (!(await checkedForm(ctx, interaction.uid))) return;
    if (interaction.prompt.name !== 'login') return jsonError(ctx, 'this sign-in step is already complete');
    const state = stateOf(ctx, interaction.uid);
    ctx.body = await authenticationOptions(db, signer, rp, interaction.uid, state?.userId);
  });

  router.post('/:uid/passkey', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    const form = await checkedForm(ctx, interaction.uid);
    if (!form) return;
    if (interaction.prompt.name !== 'login') return jsonError(ctx, 'this sign-in step is already complete');
    const state = stateOf(ctx, interaction.uid);
    const response = passkeyAnswer(form);
    if (response === undefined) return jsonError(ctx, 'response: expected the passkey’s answer as JSON');
    const result = await verifyPasskey(db, signer, rp, interaction.uid, response, state?.userId);
    const user = result ? await findUserById(db, result.userId) : undefined;
    if (!result || !user || !user.active) {
      logger.info({ reqId: ctx.state.requestId, event: 'login.passkey_refused' }, 'passkey sign-in refused');
      await protection.audit.failure({
        type: 'login.failed',
        actor: state ? { type: 'user', id: state.userId, ip: normaliseIp(ctx.ip) } : { type: 'anonymous', ip: normaliseIp(ctx.ip) },
        ...(state ? { target: { type: 'user', id: state.userId } } : {}),
        data: { client_id: interaction.params.client_id, reason: 'bad_passkey' },
      });
      return jsonError(ctx, 'This passkey was not accepted. Use another way to sign in.', 401);
    }
    if (state) return finishWith(ctx, interaction, user, [...state.methods, result.method], 'json');
    // A first factor: a passkey with user verification is something you have and something you
    // know or are (the device's PIN or biometric), two factors in one (NIST SP 800-63B §5.1.8).
    await complete(ctx, interaction, user, [result.method], result.userVerified, 'json');
  });

  // Enrolment of a passkey as the sign-in's second factor (the grace period, as with TOTP above).
  router.post('/:uid/passkey-register-options', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    if (!(await checkedForm(ctx, p.interaction.uid))) return;
    ctx.body = await registrationOptions(db, signer, rp, p.user, p.interaction.uid);
  });

  router.post('/:uid/passkey-register', async (ctx) => {
    const p = await pending(ctx);
    if (!p) return;
    const form = await checkedForm(ctx, p.interaction.uid);
    if (!form) return;
    const name = passkeyName.safeParse(form.get('name') ?? '');
    if (!name.success) return jsonError(ctx, name.error.issues[0].message);
    const response = passkeyAnswer(form);
    if (response === undefined) return jsonError(ctx, 'response: expected the passkey’s answer as JSON');
    const actor = { type: 'user' as const, id: p.user.id, ip: normaliseIp(ctx.ip) };
    const id = await registerPasskey(db, signer, rp, p.user.id, p.interaction.uid, response, name.data, actor);
    if (!id) return jsonError(ctx, 'This passkey could not be added. Try again.');
    // Making a passkey proves holding it (its attestation signs our challenge).
    await finishWith(ctx, p.interaction, p.user, [...p.state.methods, 'hwk'], 'json');
  });

  return { afterPassword };
}
