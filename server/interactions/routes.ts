import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Database } from '../db/database.js';
import { HashingBusyError, hashingFull, verifyNothing, verifySignIn } from '../crypto/passwords.js';
import { BadRequestError, readForm } from '../http/form.js';
import { sendHtml } from '../http/pages.js';
import type { Logger } from '../logger.js';
import { rememberConsent } from '../oidc/grants.js';
import { findUserByEmail, findUserById } from '../store/users.js';
import { consentPage } from '../../views/consent.js';
import { errorPage, errorViewFor } from '../../views/error.js';
import { loginPage } from '../../views/login.js';
import type { Metrics } from '../telemetry/metrics.js';
import { csrfTokens } from './csrf.js';
import { recordAudit } from '../services/audit.js';
import { LoginThrottle, type Protection } from '../services/protection/index.js';
import { limitAddress } from '../services/protection/address.js';
import { normaliseIp } from '../net/ip-allowlist.js';
import { permissionsFor, scopesToConfirm, withinRoles } from './permissions.js';
import { secondFactorRoutes } from './second-factor.js';
import { signedValues } from '../crypto/signed-values.js';
import type { Sealer } from '../crypto/seal.js';
import type { User } from '../store/users.js';
import { acrFor, amrOf } from '../services/two-factor-policy.js';
import { relyingPartyOf } from '../services/passkeys.js';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDeps {
  /** The current provider: the instance is replaced when signing keys change, so ask per request. */
  provider: () => Provider;
  db: Database;
  logger: Logger;
  cookieSecrets: readonly string[];
  protection: Protection;
  /** Counts sign-ins by outcome when METRICS_PORT is set. */
  metrics?: Pick<Metrics, 'login'>;
  /** Opens TOTP secrets (server/services/totp.ts). */
  sealer: Sealer;
  issuer: string;
}

/**
 * Sessions are ended by time (users.sessions_valid_after, see accountFinder), but oidc-provider
 * records a sign-in in whole seconds: one in the same second as a cut-off (a user reactivated and
 * signing in at once) would look older than the cut-off and be refused. Waiting for the next second
 * (at most one, and only right after a cut-off) keeps both the cut-off and the new session exact.
 */
export async function afterSessionCutoff(cutoff: Date | null): Promise<void> {
  if (!cutoff) return;
  const nextSecond = Math.ceil(cutoff.getTime() / 1000) * 1000;
  const until = Math.min(nextSecond, Date.now() + 1000);
  // A timer can end a millisecond early by Date.now(): Node times it on the event loop's monotonic
  // clock in whole milliseconds, and Date.now() is another clock. One early wake-up signed the person
  // out of the browser they had just changed their password in.
  for (let wait = until - Date.now(); wait > 0; wait = until - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The same words for an unknown email and a wrong password, so neither reveals an account. */
const BAD_LOGIN = 'The email or password is incorrect.';

/** What a throttled sign-in is told: that it is refused for now, and until when (the same for any email). */
function throttledMessage(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  const until = new Date(Date.now() + seconds * 1000).toISOString().slice(11, 16);
  const wait = seconds < 60 ? `${seconds} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `Too many failed sign-ins. For your security, sign-in is paused: try again in ${wait} (at ${until} UTC).`;
}

/** Login, consent and cancel: the pages oidc-provider sends people to (interactions.url). */
/**
 * What the consent page names as where the person goes next: the redirect URI's host for a web
 * app, its scheme for a native app's private-use URI (RFC 8252 §7.1). The redirect URI was checked
 * against the client's registered ones before the interaction began.
 */
function destinationOf(redirectUri: unknown): string {
  if (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)) return 'the application';
  const url = new URL(redirectUri);
  return url.host || url.protocol;
}

export function interactionRoutes({ provider, db, logger, cookieSecrets, protection, metrics, sealer, issuer }: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction' });
  const csrf = csrfTokens(cookieSecrets);
  const passkeysOffered = relyingPartyOf(issuer).available;

  async function details(ctx: Context) {
    try {
      return await provider().interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      if (err instanceof errors.SessionNotFound) {
        // Expired, already finished, or opened without its cookie: a page that says so.
        sendHtml(ctx, errorPage(errorViewFor({ error: 'session_not_found' })), 400);
        return undefined;
      }
      throw err;
    }
  }

  async function clientName(clientId: unknown) {
    const client = typeof clientId === 'string' ? await provider().Client.find(clientId) : undefined;
    return client?.clientName ?? (typeof clientId === 'string' ? clientId : 'the application');
  }

  /** Hands the result to oidc-provider and sends the browser back to the authorization endpoint. */
  async function finish(ctx: Context, result: Parameters<Provider['interactionResult']>[2], merge: boolean) {
    const to = await provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(to);
  }

  /**
   * The posted form if its CSRF token belongs to this interaction; otherwise answers with a page
   * that tells the person what to do (a generic "malformed request" would blame the application).
   */
  async function checkedForm(ctx: Context, uid: string) {
    const form = await readForm(ctx);
    if (!csrf.verify(uid, form.get('csrf'))) {
      logger.info({ reqId: ctx.state.requestId, event: 'interaction.csrf_failed' }, 'interaction form with a bad csrf token');
      sendHtml(ctx, errorPage(errorViewFor({ error: 'form_expired' })), 400);
      return undefined;
    }
    return form;
  }

  /**
   * Ends the login prompt for a person who proved who they are: the throttle forgets this account's
   * failures from this address, the sign-in is audited, and oidc-provider records the methods (amr,
   * RFC 8176) and the class (acr, OIDC Core §2) it puts in the ID token. `json` answers the passkey
   * script with where to go instead of redirecting.
   */
  async function completeSignIn(ctx: Context, interaction: Interaction, user: User, methods: string[], twoFactors: boolean, answer: 'redirect' | 'json') {
    const { params } = interaction;
    const ip = normaliseIp(ctx.ip);
    const amr = amrOf(methods, twoFactors);
    metrics?.login('success');
    await protection.login.of(user, ctx.ip).succeeded();
    await afterSessionCutoff(user.sessionsValidAfter);
    logger.info({ reqId: ctx.state.requestId, event: 'login.succeeded', sub: user.id, client: params.client_id }, 'login');
    const client = typeof params.client_id === 'string' ? params.client_id : undefined;
    await recordAudit(db, { type: 'login.succeeded', actor: { type: 'user', id: user.id, ip }, target: { type: 'user', id: user.id }, data: { client_id: client, amr } });
    const login = { accountId: user.id, amr, acr: acrFor(twoFactors, params.acr_values) };
    if (answer === 'redirect') return finish(ctx, { login }, false);
    ctx.body = { location: await provider().interactionResult(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false }) };
  }

  const secondFactor = secondFactorRoutes(router, {
    db, logger, protection, sealer, issuer, csrf, details, checkedForm, clientName,
    signer: signedValues(cookieSecrets),
    complete: completeSignIn,
  });

  router.get('/:uid', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    const { uid, prompt, params, session } = interaction;
    const name = await clientName(params.client_id);
    if (prompt.name === 'login') {
      sendHtml(ctx, loginPage({ uid, csrf: csrf.issue(uid), clientName: name, passkeys: passkeysOffered }), 200, { scripts: passkeysOffered });
      return;
    }
    if (prompt.name === 'consent') {
      const user = session?.accountId ? await findUserById(db, session.accountId) : undefined;
      const d = prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const { oidcScopes, resourceScopes } = await scopesToConfirm(db, d, params.scope, session?.accountId);
      const permissions = await permissionsFor(db, oidcScopes, resourceScopes);
      sendHtml(ctx, consentPage({ uid, csrf: csrf.issue(uid), clientName: name, userEmail: user?.email ?? '', permissions, destination: destinationOf(params.redirect_uri) }));
      return;
    }
    throw new BadRequestError(`unsupported interaction: ${prompt.name}`);
  });

  router.post('/:uid/login', async (ctx) => {
    // Under a flood, refuse before any lookup: a refused sign-in must cost next to nothing, or the
    // flood takes the CPU that bounded hashing kept for everything else.
    if (hashingFull()) {
      metrics?.login('busy');
      throw new HashingBusyError();
    }
    const interaction = await details(ctx);
    if (!interaction) return;
    const { uid, prompt, params } = interaction;
    const form = await checkedForm(ctx, uid);
    if (!form) return;
    if (prompt.name !== 'login') throw new BadRequestError('this sign-in step is already complete');
    const login = (form.get('login') ?? '').trim();
    const password = form.get('password') ?? '';
    const user = login && login.length <= 320 ? await findUserByEmail(db, login) : undefined;
    const ip = normaliseIp(ctx.ip);
    const client = typeof params.client_id === 'string' ? params.client_id : undefined;
    // NIST SP 800-63B §5.2.2: failures are limited per account and address, and per address. The check
    // comes before the password is hashed, and answers the same for an unknown email.
    const account = LoginThrottle.account(user?.id, login);
    const address = limitAddress(ctx.ip);
    const refuse = async (seconds: number) => {
      ctx.set('Retry-After', String(seconds));
      const name = await clientName(params.client_id);
      sendHtml(ctx, loginPage({ uid, csrf: csrf.issue(uid), clientName: name, login, error: throttledMessage(seconds) }), 429);
    };
    const wait = await protection.login.retryAfter(account, address);
    if (wait > 0) {
      metrics?.login('throttled');
      return refuse(wait);
    }
    const ok = user && user.active ? await verifySignIn(user.passwordHash, password) : await verifyNothing(password);
    if (!ok || !user) {
      logger.info({ reqId: ctx.state.requestId, event: 'login.failed', client: params.client_id }, 'login failed');
      const reason = user ? (user.active ? 'bad_password' : 'inactive') : 'unknown_account';
      metrics?.login(reason);
      const failure = await protection.login.failed(account, address, user?.id);
      // The audit names the account when there is one; an unknown address is kept only as its
      // domain, so the log does not collect whatever people mistype (sometimes a password).
      // Repeated failures from one address are folded into one event with a count.
      await protection.audit.failure({
        type: 'login.failed',
        actor: user ? { type: 'user', id: user.id, ip } : { type: 'anonymous', ip },
        ...(user ? { target: { type: 'user', id: user.id } } : {}),
        data: { client_id: client, reason, ...(user ? {} : { domain: login.split('@')[1]?.slice(0, 100) }) },
      });
      if (failure.locked) {
        await recordAudit(db, {
          type: 'user.locked',
          actor: { type: 'anonymous', ip },
          target: { type: 'user', id: user!.id },
          data: { failures_from: ip, locked_seconds: failure.retryAfter },
        });
      }
      if (failure.retryAfter > 0) return refuse(failure.retryAfter);
      const name = await clientName(params.client_id);
      sendHtml(ctx, loginPage({ uid, csrf: csrf.issue(uid), clientName: name, login, error: BAD_LOGIN }), 401);
      return;
    }
    // Finished here, or after a second step (second-factor.ts), which counts its own failures.
    await secondFactor.afterPassword(ctx, interaction, user);
  });

  router.post('/:uid/confirm', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    const { uid, prompt, params, session } = interaction;
    if (!(await checkedForm(ctx, uid))) return;
    if (prompt.name !== 'consent' || !session?.accountId) throw new BadRequestError('nothing to consent to');
    const { Grant } = provider();
    const grant = interaction.grantId
      ? ((await Grant.find(interaction.grantId)) ?? new Grant({ accountId: session.accountId, clientId: params.client_id as string }))
      : new Grant({ accountId: session.accountId, clientId: params.client_id as string });
    const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
    // Only what the user's roles allow is granted, whatever the prompt listed (see withinRoles).
    const allowed = await withinRoles(db, session.accountId, d.missingResourceScopes ?? {});
    for (const [resource, scopes] of Object.entries(allowed)) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await rememberConsent(db, grant);
    await finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    if (!(await checkedForm(ctx, interaction.uid))) return;
    // RFC 6749 §4.1.2.1: the application learns the user said no.
    await finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' }, false);
  });

  return router;
}
