import type { Middleware } from 'koa';

/** One year: the lifetime browsers' preload lists ask for, and OWASP's recommendation. */
export const HSTS_MAX_AGE = 365 * 24 * 3600;

/**
 * HTTP Strict Transport Security (RFC 6797; OWASP ASVS 4.0.3 V14.4.5) on every response of an https ISSUER: once a browser has
 * seen it, it never again sends a request (or a cookie) to this host over plain http, so a network
 * attacker cannot strip TLS from the login page. Set before the rest of the stack runs and again
 * after, so that error pages, 404s and oidc-provider's own answers carry it too.
 *
 * RFC 6797 §7.2 forbids sending it over plain http; an https ISSUER means TLS ends at a proxy in
 * front of us, and a browser ignores the header on an http response anyway (§8.1).
 * includeSubDomains (§6.1.2) is opt-in (HSTS_INCLUDE_SUBDOMAINS): it binds every host under
 * ISSUER's, which only the operator can know to be safe.
 */
export function strictTransportSecurity(options: { includeSubdomains: boolean }): Middleware {
  const value = `max-age=${HSTS_MAX_AGE}${options.includeSubdomains ? '; includeSubDomains' : ''}`;
  return async function hsts(ctx, next) {
    ctx.set('Strict-Transport-Security', value);
    try {
      await next();
    } finally {
      if (!ctx.headerSent) ctx.set('Strict-Transport-Security', value);
    }
  };
}
