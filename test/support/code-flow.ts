import { createHash, randomBytes } from 'node:crypto';
import { USER, basic, postForm } from './fixtures.js';

/**
 * The authorization code flow without a browser: fetch with redirect:'manual' and a cookie jar,
 * filling in the login and consent forms as a person would. Tests that need a code (or the cookies a
 * browser would hold) use authorize(); tests of the pages themselves belong in test/browser.
 */

/** What a test server looks like to this helper (TestServer fits). */
export interface FlowServer {
  url: string;
}

export interface FlowClient {
  id: string;
  redirect: string;
  /** Confidential clients: used by exchangeCode/refresh. */
  secret?: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/**
 * Just enough of a browser's cookie store: name, value and path, replaced by name and path, removed
 * when the server expires them. Domains are ignored (every request goes to one server). `seen` keeps
 * every value ever set, so a test can check none of them ends up where it should not.
 */
export class CookieJar {
  private readonly cookies = new Map<string, Cookie>();
  readonly seen: Cookie[] = [];

  store(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=');
        const v = rest.join('=');
        if (/^path$/i.test(key)) path = v || '/';
        if (/^max-age$/i.test(key) && Number(v) <= 0) expired = true;
        if (/^expires$/i.test(key) && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name};${path}`;
      if (expired) {
        this.cookies.delete(id);
      } else {
        this.cookies.set(id, { name, value, path });
        this.seen.push({ name, value, path });
      }
    }
  }

  header(url: URL): string {
    return [...this.cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The current value of a cookie, whatever its path. */
  get(name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.name === name)?.value;
  }

  async fetch(url: URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(res);
    return res;
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  client: FlowClient;
  scope: string;
  resource?: string | string[];
  /** Who signs in; the seeded USER by default. */
  user?: { email: string; password: string };
  /** prompt parameter; "consent" by default when offline_access is asked for (OIDC Core §11). */
  prompt?: string;
  /** Reuse a browser: its session signs the user in without the login form. */
  jar?: CookieJar;
  /** Leave PKCE out (to test that it is required). */
  noPkce?: boolean;
  /**
   * Start at this URL instead of one built from the options (a pushed request's request_uri, say);
   * `state` is then the state it carries.
   */
  start?: { url: URL; state: string };
  /** Called on each login or consent page before the form is sent, e.g. to look at storage mid-flow. */
  onPage?: (page: 'login' | 'consent', uid: string) => Promise<void>;
}

export interface AuthorizeResult {
  code: string;
  verifier: string;
  redirectUri: string;
  state: string;
  jar: CookieJar;
  /** The interaction ids (uids) the flow went through. */
  interactions: string[];
  /** The csrf values of the forms that were sent. */
  csrf: string[];
  /** Where the browser was sent back to (code, state and iss), for openid-client's authorizationCodeGrant. */
  callback: URL;
}

/** The authorization server sent the browser back with an error (RFC 6749 §4.1.2.1). */
export class AuthorizationError extends Error {
  constructor(readonly error: string, readonly description: string | null) {
    super(`authorization failed: ${error}${description ? ` (${description})` : ''}`);
  }
}

/** The login page came back after the form was sent: the server refused the sign-in (not a 5xx). */
export class LoginRefusedError extends Error {
  constructor(readonly status: number) {
    super(`the sign-in was refused (${status})`);
  }
}

/**
 * Asserts that a sign-in is refused as a wrong password is: the login page again with 401. Anything
 * else (it succeeded, a 500, a broken page) fails the test with what happened instead.
 */
export async function expectLoginRefused(attempt: Promise<unknown>): Promise<void> {
  const outcome = await attempt.then(
    () => new Error('the sign-in succeeded'),
    (err: unknown) => err,
  );
  if (!(outcome instanceof LoginRefusedError)) throw outcome;
  if (outcome.status !== 401) throw new Error(`the refused sign-in answered ${outcome.status}, not 401`);
}

const decodeHtml = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function formsOf(html: string): { action: string; fields: Record<string, string> }[] {
  return [...html.matchAll(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].map(([, action, body]) => {
    const fields: Record<string, string> = {};
    for (const [input] of body.matchAll(/<input\b[^>]*>/g)) {
      const name = /\bname="([^"]*)"/.exec(input)?.[1];
      const value = /\bvalue="([^"]*)"/.exec(input)?.[1];
      if (name) fields[decodeHtml(name)] = decodeHtml(value ?? '');
    }
    return { action: decodeHtml(action), fields };
  });
}

/**
 * Runs /oauth/authorize -> login -> consent -> redirect and returns the code. Throws
 * AuthorizationError when the client is sent an error, and a plain Error on anything unexpected
 * (a wrong password, a page it does not know), with the status and the start of the page.
 */
export async function authorize(server: FlowServer, options: AuthorizeOptions): Promise<AuthorizeResult> {
  const { client, scope } = options;
  const user = options.user ?? USER;
  const jar = options.jar ?? new CookieJar();
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(12).toString('base64url');
  const params = new URLSearchParams({ client_id: client.id, response_type: 'code', redirect_uri: client.redirect, scope, state });
  const prompt = options.prompt ?? (scope.split(' ').includes('offline_access') ? 'consent' : undefined);
  if (prompt) params.set('prompt', prompt);
  if (!options.noPkce) {
    params.set('code_challenge', challenge);
    params.set('code_challenge_method', 'S256');
  }
  for (const r of [options.resource ?? []].flat()) params.append('resource', r);

  const base = new URL(server.url);
  // Locations name the issuer, which need not be where this node listens: keep the path, use the node.
  const local = (location: URL) => new URL(`${location.pathname}${location.search}`, base);
  const callback = new URL(client.redirect);
  const interactions: string[] = [];
  const csrf: string[] = [];
  const submitted = new Set<string>();

  let url = options.start?.url ? local(options.start.url) : new URL(`/oauth/authorize?${params}`, base);
  const expectedState = options.start?.state ?? state;
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const res = await jar.fetch(url, init);
    init = {};
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const location = new URL(res.headers.get('location')!, url);
      if (location.origin === callback.origin && location.pathname === callback.pathname) {
        const q = location.searchParams;
        if (q.get('error')) throw new AuthorizationError(q.get('error')!, q.get('error_description'));
        if (q.get('state') !== expectedState) throw new Error(`state mismatch: sent ${expectedState}, got ${q.get('state')}`);
        const code = q.get('code');
        if (!code) throw new Error(`redirect without a code: ${location.search}`);
        return { code, verifier, redirectUri: client.redirect, state: expectedState, jar, interactions, csrf, callback: location };
      }
      url = local(location);
      continue;
    }
    const body = await res.text();
    // A page is either the interaction itself or the answer to a form sent to it (a refused login).
    const page = /^\/interaction\/([^/]+)(?:\/\w+)?$/.exec(url.pathname);
    if (!page || res.status >= 500) throw new Error(`unexpected ${res.status} at ${url.pathname}: ${body.slice(0, 500)}`);
    const uid = page[1];
    if (!interactions.includes(uid)) interactions.push(uid);
    const forms = formsOf(body);
    const login = forms.find((f) => f.action.endsWith('/login'));
    const consent = forms.find((f) => f.action.endsWith('/confirm'));
    const form = login ?? consent;
    if (!form) throw new Error(`no login or consent form at ${url.pathname} (${res.status}): ${body.slice(0, 500)}`);
    // The login form coming back after we sent it means the sign-in was refused.
    if (submitted.has(form.action)) {
      if (login) throw new LoginRefusedError(res.status);
      throw new Error(`the form at ${form.action} was refused (${res.status})`);
    }
    submitted.add(form.action);
    await options.onPage?.(login ? 'login' : 'consent', uid);
    const fields: Record<string, string> = { ...form.fields, ...(login ? { login: user.email, password: user.password } : {}) };
    if (fields.csrf) csrf.push(fields.csrf);
    url = new URL(form.action, base);
    init = { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('the authorization flow did not reach the redirect URI in 20 steps');
}

const clientAuth = (client: FlowClient): Record<string, string> => (client.secret ? { authorization: basic(client.id, client.secret) } : {});
const clientIdField = (client: FlowClient): Record<string, string> => (client.secret ? {} : { client_id: client.id });

/** Redeems a code at the token endpoint (RFC 6749 §4.1.3) as the client would. */
export function exchangeCode(server: FlowServer, client: FlowClient, flow: Pick<AuthorizeResult, 'code' | 'verifier' | 'redirectUri'>) {
  return postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'authorization_code', code: flow.code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier, ...clientIdField(client) },
    clientAuth(client),
  );
}

/** Redeems a refresh token (RFC 6749 §6). */
export function refresh(server: FlowServer, client: FlowClient, refreshToken: string) {
  return postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, ...clientIdField(client) }, clientAuth(client));
}

/** Asks the introspection endpoint (RFC 7662) whether a token is active. */
export async function isActive(server: FlowServer, client: FlowClient, token: string): Promise<boolean> {
  const res = await postForm(`${server.url}/oauth/introspect`, { token, ...clientIdField(client) }, clientAuth(client));
  if (res.status !== 200) throw new Error(`introspection: ${res.status} ${res.text}`);
  return res.json.active === true;
}

/**
 * RP-initiated logout as a browser does it (OIDC RP-Initiated Logout 1.0 §2): GET /oauth/logout, then
 * the confirmation form sent with "Sign out" (logout=yes), which ends the whole Gatehouse session.
 */
export async function logout(server: FlowServer, jar: CookieJar): Promise<void> {
  const base = new URL(server.url);
  const page = await jar.fetch(new URL('/oauth/logout', base), { headers: { accept: 'text/html' } });
  const html = await page.text();
  const form = formsOf(html).find((f) => 'xsrf' in f.fields);
  if (page.status !== 200 || !form) throw new Error(`no logout form (${page.status}): ${html.slice(0, 300)}`);
  const res = await jar.fetch(new URL(new URL(form.action, base).pathname, base), {
    method: 'POST',
    body: new URLSearchParams({ ...form.fields, logout: 'yes' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
  });
  await res.arrayBuffer();
  if (res.status >= 400) throw new Error(`logout confirmation answered ${res.status}`);
}
