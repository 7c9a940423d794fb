import type { TestServer } from './server.js';
import { basic, postForm } from './fixtures.js';

/** Every Management API scope: what the seeded admin client may be granted. */
export const ALL_MANAGEMENT_SCOPES = [
  'clients:read', 'clients:write', 'clients:admin', 'apis:read', 'apis:write', 'users:read', 'users:write', 'users:delete',
  'roles:read', 'roles:write', 'api-keys:read', 'api-keys:write', 'audit:read', 'keys:write', 'webhooks:read', 'webhooks:write',
];

export const ADMIN_CLIENT = { id: 'ops-automation', secret: 'ops-automation-secret-0123456789abcdef' };

/** A seed client that can call the Management API with client credentials (add it to a seed's clients). */
export const adminClientSeed = (scopes = ALL_MANAGEMENT_SCOPES) => ({
  client_id: ADMIN_CLIENT.id,
  client_secret: ADMIN_CLIENT.secret,
  client_name: 'Ops automation',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  scope: scopes.join(' '),
  token_endpoint_auth_method: 'client_secret_basic',
});

/** A client-credentials JWT for the Management API (aud = $ISSUER/api/v1) with the given scopes. */
export async function managementToken(server: Pick<TestServer, 'url' | 'issuer'>, scopes: string[] = ALL_MANAGEMENT_SCOPES, client = ADMIN_CLIENT): Promise<string> {
  const res = await postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'client_credentials', scope: scopes.join(' '), resource: `${server.issuer}/api/v1` },
    { authorization: basic(client.id, client.secret) },
  );
  if (res.status !== 200) throw new Error(`management token: ${res.status} ${res.text}`);
  return res.json.access_token as string;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls /api/v1 with a bearer token (JWT or API key). */
export function managementApi(server: Pick<TestServer, 'url'>, token: string | undefined) {
  const call = async (method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body ?? {}, headers),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}
