import { expect } from 'chai';
import { TokenError } from '../../packages/resource-server/src/index.js';
import type { TestServer } from './server.js';
import { basic, postForm } from './fixtures.js';

/** Resource servers that receive Shared Signals streams: clients granted ssf:stream. */
export const RECEIVER = { id: 'rs-orders', secret: 'rs-orders-secret-0123456789abcdef' };
export const OTHER_RECEIVER = { id: 'rs-billing', secret: 'rs-billing-secret-0123456789abcdef' };

export const receiverSeed = (client: { id: string; secret: string }) => ({
  client_id: client.id,
  client_secret: client.secret,
  client_name: `Receiver ${client.id}`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  scope: 'ssf:stream',
  token_endpoint_auth_method: 'client_secret_basic',
});

/** A client-credentials token for the Shared Signals API ($ISSUER/ssf, scope ssf:stream). */
export async function receiverToken(server: Pick<TestServer, 'url' | 'issuer'>, client = RECEIVER): Promise<string> {
  const res = await postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'client_credentials', scope: 'ssf:stream', resource: `${server.issuer}/ssf` },
    { authorization: basic(client.id, client.secret) },
  );
  if (res.status !== 200) throw new Error(`receiver token: ${res.status} ${res.text}`);
  return res.json.access_token as string;
}

/** Calls an SSF endpoint of a node (a path under the issuer, or an absolute URL) as a receiver. */
export async function ssf(server: Pick<TestServer, 'url' | 'issuer'>, token: string | undefined, method: string, path: string, body?: unknown) {
  const url = path.startsWith('http') ? path.replace(server.issuer, server.url) : `${server.url}${path}`;
  const res = await fetch(url, {
    method,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** The resource-server library's refusal of a token (TokenError), or a failure if it accepted it. */
export async function refusal(verifying: Promise<unknown>): Promise<TokenError> {
  try {
    await verifying;
  } catch (err) {
    expect(err).to.be.instanceOf(TokenError);
    return err as TokenError;
  }
  throw new Error('the token was accepted');
}
