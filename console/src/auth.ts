import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';

/**
 * Signing in to the console: the authorization code flow with PKCE (RFC 7636) as the public client
 * `gatehouse-console`, through this server's own login page. Tokens live in this page's memory only
 * (never in storage a script could read later); a reload signs in again, which passes straight
 * through while the Gatehouse session lasts. The refresh token rotates on every use (RFC 9700 §2.2.2).
 */
export const CLIENT_ID = 'gatehouse-console';
const PENDING_KEY = 'gatehouse.console.sign-in';
const origin = () => window.location.origin;
export const consolePath = (path = '') => `/console${path}`;
export const redirectUri = () => `${origin()}${consolePath('/callback')}`;
export const signedOutUri = () => `${origin()}${consolePath('/signed-out')}`;
export const managementApi = () => `${origin()}/api/v1`;
const SCOPE = ['openid', 'profile', 'email', ...Object.keys(MANAGEMENT_SCOPES)].join(' ');

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri?: string;
  end_session_endpoint?: string;
}

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch ms after which the access token is renewed before use. */
  renewAt: number;
}

interface Pending {
  state: string;
  verifier: string;
  returnTo: string;
}

let discovery: Promise<Discovery> | undefined;
let tokens: Tokens | undefined;
let refreshing: Promise<void> | undefined;

/** The server's metadata (OpenID Connect Discovery 1.0), fetched once: its issuer and endpoints. */
export function discover(): Promise<Discovery> {
  discovery ??= fetch(`${origin()}/.well-known/openid-configuration`).then((res) => {
    if (!res.ok) throw new Error(`the server's discovery document answered ${res.status}`);
    return res.json() as Promise<Discovery>;
  });
  discovery.catch(() => (discovery = undefined));
  return discovery;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n = 32) => base64url(crypto.getRandomValues(new Uint8Array(n)));

/** Leaves for the login page; comes back to `returnTo` once signed in. */
export async function signIn(returnTo = currentPath()): Promise<never> {
  const { authorization_endpoint } = await discover();
  const pending: Pending = { state: random(), verifier: random(48), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))));
  const url = new URL(authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: SCOPE,
    resource: managementApi(), // RFC 8707: the token is for the Management API
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: pending.state,
  }).toString();
  window.location.assign(url.toString());
  return new Promise<never>(() => undefined);
}

export class SignInError extends Error {}

async function tokenRequest(params: Record<string, string>): Promise<void> {
  const { token_endpoint } = await discover();
  const res = await fetch(token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: CLIENT_ID, resource: managementApi(), ...params }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new SignInError(body.error_description || body.error || `the token endpoint answered ${res.status}`);
  tokens = {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    idToken: body.id_token ?? tokens?.idToken,
    renewAt: Date.now() + Math.max(10, (body.expires_in ?? 300) - 60) * 1000,
  };
}

/**
 * On /console/callback: checks state (CSRF, RFC 6749 §10.12), redeems the code with the PKCE
 * verifier, and answers the path to show. Elsewhere: undefined.
 */
export async function completeSignIn(): Promise<string | undefined> {
  if (window.location.pathname !== consolePath('/callback')) return undefined;
  const params = new URLSearchParams(window.location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (params.get('error')) throw new SignInError(params.get('error_description') || params.get('error')!);
  if (!pending || params.get('state') !== pending.state) throw new SignInError('this sign-in did not start here, or it was already used; sign in again');
  await tokenRequest({ grant_type: 'authorization_code', code: params.get('code') ?? '', redirect_uri: redirectUri(), code_verifier: pending.verifier });
  return pending.returnTo;
}

/** A current access token: renewed with the refresh token shortly before it expires. */
export async function accessToken(): Promise<string> {
  if (!tokens) return signIn();
  if (Date.now() >= tokens.renewAt) await renew();
  return tokens!.accessToken;
}

/** Renews once for any number of concurrent callers (a rotated refresh token works only once). */
export async function renew(): Promise<void> {
  refreshing ??= (async () => {
    try {
      if (!tokens?.refreshToken) throw new SignInError('no refresh token');
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
    } catch {
      tokens = undefined;
      await signIn();
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export const isSignedIn = () => tokens !== undefined;

/** RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the Gatehouse session too. */
export async function signOut(): Promise<void> {
  const { end_session_endpoint } = await discover();
  const hint = tokens?.idToken;
  tokens = undefined;
  if (!end_session_endpoint) {
    window.location.assign(signedOutUri());
    return;
  }
  const url = new URL(end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: signedOutUri(),
    ...(hint ? { id_token_hint: hint } : {}),
  }).toString();
  window.location.assign(url.toString());
}

export function currentPath(): string {
  const { pathname, search } = window.location;
  const inside = pathname.startsWith(consolePath('/')) ? pathname : consolePath('/');
  return inside === consolePath('/callback') || inside === consolePath('/signed-out') ? consolePath('/') : inside + search;
}
