import type { Middleware } from 'koa';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { sendHtml } from '../http/pages.js';
import { loggedOutPage, logoutPage } from '../../views/logout.js';
import { errorPage, errorViewFor } from '../../views/error.js';

const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;

/** RP-initiated logout pages (OIDC RP-Initiated Logout 1.0 §2, §3), in our own look. */
export function logoutPages() {
  return {
    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      sendHtml(ctx, logoutPage(form, clientName(ctx)));
    },
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      sendHtml(ctx, loggedOutPage(clientName(ctx)));
    },
  };
}

/**
 * oidc-provider's renderError: a readable page for browser flows, never a stack trace. The
 * authorization endpoint calls it for every caller it cannot redirect back, so a caller that does
 * not ask for HTML (curl, a script, a monitor) gets the RFC 6749 §5.2 JSON body instead.
 */
export function renderErrorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
  const status = ctx.status >= 400 ? ctx.status : 400;
  if (ctx.accepts('json', 'html') === 'html') {
    sendHtml(ctx, errorPage(errorViewFor(out)), status);
    return;
  }
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = out;
}

/**
 * GET /oauth/logout from someone who is not signed in has nothing to end. oidc-provider would still
 * store a session to carry its confirmation form's token (14 days in our configuration), so that
 * anyone could fill the session store with anonymous requests. Here such a request stores nothing
 * (the session save is skipped) and is answered at once: back to the validated
 * post_logout_redirect_uri with its state (OIDC RP-Initiated Logout 1.0 §3), or the signed-out page.
 */
export function logoutWithoutSession(provider: Provider): Middleware {
  type Saved = { accountId?: string; touched?: boolean };
  const Session = provider.Session as unknown as { prototype: { save(this: Saved, ttl?: number): Promise<unknown> } };
  const save = Session.prototype.save;
  Session.prototype.save = function saveUnlessAnonymousLogout(ttl) {
    if (!this.accountId && Provider.ctx?.oidc?.route === 'end_session') {
      // As if saved: oidc-provider persists a session still marked touched at the end of the request.
      this.touched = false;
      return Promise.resolve(undefined);
    }
    return save.call(this, ttl);
  };
  return async function answerAnonymousLogout(ctx, next) {
    await next();
    const oidc = (ctx as KoaContextWithOIDC).oidc;
    if (oidc?.route !== 'end_session' || ctx.status !== 200 || oidc.session?.accountId) return;
    // The session cookie points at nothing stored: do not send it.
    const cookies = ctx.response.get('Set-Cookie') as unknown as string[] | string | undefined;
    const kept = (Array.isArray(cookies) ? cookies : cookies ? [cookies] : []).filter((c) => !c.startsWith(`${provider.cookieName('session')}`));
    ctx.remove('Set-Cookie');
    if (kept.length) ctx.set('Set-Cookie', kept);
    const target = oidc.params?.post_logout_redirect_uri;
    if (typeof target === 'string') {
      const uri = new URL(target);
      if (typeof oidc.params?.state === 'string') uri.searchParams.set('state', oidc.params.state);
      ctx.status = 303;
      ctx.redirect(uri.href);
      return;
    }
    sendHtml(ctx as KoaContextWithOIDC, loggedOutPage(clientName(ctx as KoaContextWithOIDC)));
  };
}
