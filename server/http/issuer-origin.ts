import type Koa from 'koa';
import type { Middleware } from 'koa';
import { BadRequestError } from './form.js';

/** RFC 9112 §3.2.2: `GET http://host/path HTTP/1.1`, a request target that names an authority. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * Pins the request's protocol and host to ISSUER's, first thing, so that nothing the caller sends
 * reaches a URL we build or a cookie we set.
 *
 * Koa derives ctx.protocol, ctx.host and ctx.href from the Host header (X-Forwarded-Proto/-Host when
 * app.proxy is on) and from an absolute-form request target, and oidc-provider resolves every
 * endpoint URL against ctx.href (lib/helpers/oidc_context.js, urlFor): the discovery document, the
 * authorization endpoint's resume URL, the logout form's action. Left alone, `Host: evil.example`
 * puts evil.example in a discovery document that a cache in front then serves to everyone (web
 * cache poisoning). Here those getters answer with ISSUER's scheme and host, whatever arrives: only
 * ISSUER says where this server is.
 *
 * The same pin makes ctx.secure true for an https ISSUER, whatever TRUST_PROXY says: Koa's cookie
 * jar and oidc-provider's (whose `secure` follows ctx.secure, lib/models/session.js) then mark every
 * cookie Secure, ours and oidc-provider's session, interaction and resume cookies alike.
 */
export function issuerOrigin(app: Koa, issuer: string): Middleware {
  const url = new URL(issuer);
  const scheme = url.protocol.slice(0, -1);
  const { host } = url;
  // On this app's request prototype, once: every request's protocol and host (and hostname, href,
  // URL and secure, which Koa computes from them) are ISSUER's. Defining them on each request object
  // instead cost a measurable share of a cheap request (README, "Where the time goes").
  Object.defineProperties(app.request, {
    protocol: { get: () => scheme, configurable: true },
    host: { get: () => host, configurable: true },
  });
  return function pinOriginToIssuer(ctx, next) {
    // The Host header is no longer used, but RFC 9112 §3.2 still makes an invalid one a 400. ISSUER's
    // own host, what nearly every request sends, is known to be valid.
    const sentHost = ctx.get('host');
    if (sentHost && sentHost !== host && !URL.canParse(`http://${sentHost}`)) throw new BadRequestError('malformed Host header');
    const target = ctx.originalUrl;
    if (target.charCodeAt(0) !== 47 /* "/" */) {
      const authority = ABSOLUTE_FORM.exec(target);
      if (authority) {
        // Keep the path and query of an absolute-form target, drop the authority it names.
        const rest = target.slice(authority[0].length);
        const originForm = rest.startsWith('/') ? rest : `/${rest}`;
        ctx.req.url = originForm;
        ctx.originalUrl = originForm;
        ctx.request.originalUrl = originForm;
      }
    }
    return next();
  };
}
