import type { Discovery } from './auth.js';
import type { Api, Client } from './types.js';

/**
 * "Use this credential": what a person copies to get a token and call an API with it. Pure
 * functions of the credential, the registered APIs and the server's metadata, so the page, the
 * downloads and the scope editor say the same thing.
 */

/** One API a credential may call: its RFC 8707 resource indicator and the scopes of it the credential holds. */
export interface ApiUse {
  name: string;
  identifier: string;
  scopes: string[];
  builtin: boolean;
}

/** The APIs whose scopes the credential holds, in the scope editor's order (Management API last). */
export function apisUsed(scope: string, apis: readonly Api[]): ApiUse[] {
  const held = new Set(scope.split(' '));
  return [...apis]
    .sort((a, b) => Number(a.builtin) - Number(b.builtin) || a.name.localeCompare(b.name))
    .map((a) => ({ name: a.name, identifier: a.identifier, builtin: a.builtin, scopes: a.scopes.map((s) => s.name).filter((s) => held.has(s)) }))
    .filter((u) => u.scopes.length > 0);
}

/** The environment variable the .env download and the examples use for the secret. */
export const SECRET_VARIABLE = 'GATEHOUSE_CLIENT_SECRET';

/** Shell-quoted (single quotes), for values a person did not type: URLs, scopes. */
const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Reads access_token out of the token endpoint's JSON without needing jq. */
const TAKE_TOKEN = `sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p'`;

/** How the client authenticates at the token endpoint: HTTP Basic with its secret, or its id alone (public, PKCE). */
function clientAuth(client: Client): string {
  return client.token_endpoint_auth_method === 'none'
    ? `-d client_id=${q(client.client_id)}`
    : client.token_endpoint_auth_method === 'client_secret_post'
      ? `-d client_id=${q(client.client_id)} -d client_secret="$${SECRET_VARIABLE}"`
      : `-u ${q(client.client_id)}:"$${SECRET_VARIABLE}"`;
}

/** RFC 6749 §4.4 with RFC 8707 resource: a token for one API, stored in $ACCESS_TOKEN. */
export function clientCredentialsExample(m: Discovery, client: Client, use: ApiUse): string {
  return [
    `ACCESS_TOKEN=$(curl -s ${clientAuth(client)} \\`,
    `  -d grant_type=client_credentials \\`,
    `  --data-urlencode resource=${q(use.identifier)} \\`,
    `  --data-urlencode scope=${q(use.scopes.join(' '))} \\`,
    `  ${q(m.token_endpoint)} | ${TAKE_TOKEN})`,
  ].join('\n');
}

/** A call to the API with the token. The Management API answers /me; another API at its own paths. */
export function apiCallExample(use: ApiUse): string {
  const url = use.builtin ? `${use.identifier.replace(/\/$/, '')}/me` : use.identifier;
  return `curl -s -H "Authorization: Bearer $ACCESS_TOKEN" ${q(url)}`;
}

/**
 * RFC 6749 §4.1 with PKCE (RFC 7636 §4.1-4.2, S256) and RFC 8707 resource: make a verifier, open the
 * authorization URL, then exchange the code the redirect brings back.
 */
export function authorizationCodeExample(m: Discovery, client: Client, use: ApiUse): string {
  const redirect = client.redirect_uris[0] ?? 'https://app.example.com/callback';
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirect,
    scope: ['openid', ...use.scopes].join(' '),
    resource: use.identifier,
    code_challenge_method: 'S256',
  }).toString();
  return [
    '# 1. A PKCE verifier and its challenge (RFC 7636)',
    `CODE_VERIFIER=$(openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\\n')`,
    `CODE_CHALLENGE=$(printf '%s' "$CODE_VERIFIER" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')`,
    '# 2. Open this URL in a browser and sign in; you come back to',
    `#    ${redirect}?code=…  Copy the code.`,
    `echo "${m.authorization_endpoint}?${params}&code_challenge=$CODE_CHALLENGE&state=$(openssl rand -hex 8)"`,
    'CODE=paste-the-code-here',
    '# 3. Exchange the code (within 60 seconds) for a token for this API',
    `ACCESS_TOKEN=$(curl -s ${clientAuth(client)} \\`,
    `  -d grant_type=authorization_code -d code="$CODE" -d code_verifier="$CODE_VERIFIER" \\`,
    `  --data-urlencode redirect_uri=${q(redirect)} \\`,
    `  --data-urlencode resource=${q(use.identifier)} \\`,
    `  ${q(m.token_endpoint)} | ${TAKE_TOKEN})`,
  ].join('\n');
}

/** The downloads' account of what the credential may call: each API's identifier and scopes. */
export const apisForDownload = (uses: readonly ApiUse[]) => uses.map((u) => ({ name: u.name, resource: u.identifier, scope: u.scopes.join(' ') }));

/** GATEHOUSE_ORDERS_API: an environment variable name from an API's name. */
export const envName = (name: string) => `GATEHOUSE_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '') || 'API'}`;
