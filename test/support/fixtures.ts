import type { JSONWebKeySet } from 'jose';
/** The seed most tests start from: one API, one user, a service client, a web client, a public SPA. */
export const ORDERS_API = 'https://orders.example.test';
export const BILLING_API = 'https://billing.example.test';
export const USER = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'correct horse battery staple' };
export const SERVICE = { id: 'svc-orders', secret: 'svc-orders-secret-0123456789abcdef' };
export const WEB = { id: 'web-app', secret: 'web-app-secret-0123456789abcdef', redirect: 'http://127.0.0.1:8080/callback' };
export const SPA = { id: 'spa-app', redirect: 'http://127.0.0.1:8080/spa-callback' };

export const baseSeed = () => ({
  apis: [
    {
      identifier: ORDERS_API,
      name: 'Orders API',
      scopes: [{ name: 'orders:read', description: 'Read your orders' }, { name: 'orders:write', description: 'Create and change your orders' }],
      // The service client also acts as these APIs' resource server: it may introspect their tokens.
      resource_servers: [SERVICE.id],
    },
    { identifier: BILLING_API, name: 'Billing API', scopes: ['billing:read'], resource_servers: [SERVICE.id] },
  ],
  users: [USER],
  clients: [
    {
      client_id: SERVICE.id,
      client_secret: SERVICE.secret,
      client_name: 'Orders sync',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scope: 'orders:read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: WEB.id,
      client_secret: WEB.secret,
      client_name: 'Shop',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [WEB.redirect],
      post_logout_redirect_uris: ['http://127.0.0.1:8080/'],
      scope: 'openid profile email offline_access orders:read orders:write',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: SPA.id,
      client_name: 'Shop SPA',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [SPA.redirect],
      scope: 'openid offline_access orders:read',
      token_endpoint_auth_method: 'none',
    },
  ],
});

/** The built-in console client (public, PKCE), to sign a person in as the console does. */
export const consoleClient = (server: { issuer: string }) => ({ id: 'gatehouse-console', redirect: `${server.issuer}/console/callback` });

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** POSTs a form to the token endpoint (or any form endpoint) and returns status and parsed JSON. */
export async function postForm(url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: left empty, the test looks at text */
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** The public JWKS a node publishes (a test server, or a URL such as a restarted node's). */
export async function jwksOf(node: { url: string } | string): Promise<JSONWebKeySet> {
  const res = await fetch(`${typeof node === 'string' ? node : node.url}/oauth/jwks`);
  if (res.status !== 200) throw new Error(`GET /oauth/jwks: ${res.status}`);
  return (await res.json()) as JSONWebKeySet;
}
