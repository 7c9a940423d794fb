import type { KoaContextWithOIDC } from 'oidc-provider';
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
