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

/** oidc-provider's renderError: a readable page for browser flows, never a stack trace. */
export function renderErrorPage(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
  sendHtml(ctx, errorPage(errorViewFor(out)), ctx.status >= 400 ? ctx.status : 400);
}
