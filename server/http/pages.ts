import type { Context } from 'koa';

/**
 * Headers for every HTML page we serve. The CSP allows our one stylesheet and nothing else: no
 * scripts, no frames, no plugins. form-action is left out on purpose: browsers apply it to the
 * redirects that follow a form post, and the login and consent forms end in a redirect to the
 * application's registered redirect_uri on another origin.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Pages that offer passkeys run two same-origin scripts (views/layout.ts) that call back to this
 * origin; still no inline script and nothing from elsewhere.
 */
export const PASSKEY_PAGE_CSP = `${PAGE_CSP}; script-src 'self'; connect-src 'self'`;

export function setPageHeaders(ctx: Context, csp = PAGE_CSP): void {
  ctx.set('Content-Security-Policy', csp);
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
}

export function sendHtml(ctx: Context, body: string, status = 200, options: { scripts?: boolean } = {}): void {
  setPageHeaders(ctx, options.scripts ? PASSKEY_PAGE_CSP : PAGE_CSP);
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}
