import { CookieJar, pkcePair } from './code-flow.js';
import { WEB } from './fixtures.js';

/** One answer of the login form: its status, the page, and Retry-After when there is one. */
export interface Attempt {
  status: number;
  text: string;
  retryAfter: number | undefined;
}

/**
 * A browser at a given address (X-Forwarded-For; the server runs with TRUST_PROXY=true) that has
 * opened the login page of one authorization request and sends the form again and again, as a
 * guesser would.
 */
export async function loginForm(server: { url: string }, address: string, client: { id: string; redirect: string } = WEB) {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': address };
  const { challenge } = pkcePair();
  const params = new URLSearchParams({ client_id: client.id, response_type: 'code', redirect_uri: client.redirect, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
  const start = await jar.fetch(new URL(`/oauth/authorize?${params}`, server.url), { headers });
  const page = new URL(start.headers.get('location')!, server.url);
  const html = await (await jar.fetch(new URL(page.pathname, server.url), { headers })).text();
  let csrf = /name="csrf" value="([^"]*)"/.exec(html)![1];
  const action = new URL(`${page.pathname}/login`, server.url);
  return {
    /** Sends the form; `from` sends this one attempt from another address (a botnet). */
    async attempt(login: string, password: string, from = address): Promise<Attempt> {
      const res = await jar.fetch(action, {
        method: 'POST',
        headers: { 'x-forwarded-for': from, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, login, password }),
      });
      const text = await res.text();
      csrf = /name="csrf" value="([^"]*)"/.exec(text)?.[1] ?? csrf;
      const retry = res.headers.get('retry-after');
      return { status: res.status, text, retryAfter: retry ? Number(retry) : undefined };
    },
  };
}

/**
 * A fresh client address for each call (sent as X-Forwarded-For; no traffic goes there), so tests
 * never share counts, also with earlier runs on the same Redis: a random /16 per test process.
 */
const block = 1 + Math.floor(Math.random() * 250);
let next = 0;
export const freshAddress = () => {
  next += 1;
  return `10.${block}.${(next >> 8) & 255}.${next & 255}`;
};

/** The visible message of a login page (its alert), for comparing answers. */
export const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1].replace(/\d+/g, 'N');
