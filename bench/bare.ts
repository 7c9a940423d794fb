/**
 * The baseline of `npm run bench`: oidc-provider alone, as its documentation configures it, with
 * nothing of Gatehouse. In memory (a Map: the library's own development adapter is an LRU of 1000
 * entries, which would evict the codes minted ahead of a run), one static confidential client per
 * flow, RFC 9068 JWT access tokens for one resource (RFC 8707) signed with the same algorithm and key
 * size as Gatehouse's, refresh-token rotation on, the same endpoint paths. A second port (HELPER_PORT)
 * mints authorization codes directly through the library's models, so that only the token
 * exchange is timed, as it is for Gatehouse.
 *
 * Environment: PORT, HELPER_PORT, BENCH_ALG (RS256 | ES256 | PS256), BENCH_API, and the clients'
 * secrets BENCH_SERVICE_SECRET, BENCH_WEB_SECRET; BENCH_REDIRECT.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const PORT = Number(env('PORT'));
const HELPER_PORT = Number(env('HELPER_PORT'));
const ALG = (process.env.BENCH_ALG ?? 'RS256') as 'RS256' | 'ES256' | 'PS256';
const API = env('BENCH_API');
const REDIRECT = env('BENCH_REDIRECT');
const ISSUER = `http://127.0.0.1:${PORT}`;
const SCOPE = 'orders:read';

const { privateKey } = await generateKeyPair(ALG, { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bare', alg: ALG, use: 'sig' };

type Payload = Record<string, unknown>;
const store = new Map<string, { payload: Payload; expiresAt?: number }>();

/** The adapter contract (oidc-provider's example/my_adapter.js) over one Map, with expiry. */
class MapAdapter {
  constructor(private readonly model: string) {}
  private key = (id: string) => `${this.model}:${id}`;
  async upsert(id: string, payload: Payload, expiresIn?: number) {
    store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) store.set(`grant:${payload.grantId}:${this.key(id)}`, { payload: { key: this.key(id) } });
  }
  async find(id: string) {
    const entry = store.get(this.key(id));
    if (!entry || (entry.expiresAt && entry.expiresAt <= Date.now())) return undefined;
    return entry.payload as never;
  }
  async findByUid(uid: string) {
    for (const [k, v] of store) if (k.startsWith(`${this.model}:`) && v.payload.uid === uid) return v.payload as never;
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const k of store.keys()) {
      if (!k.startsWith(`grant:${grantId}:`)) continue;
      store.delete(store.get(k)!.payload.key as string);
      store.delete(k);
    }
  }
}

const provider = new Provider(ISSUER, {
  adapter: MapAdapter as never,
  clients: [
    {
      client_id: 'bench-service',
      client_secret: env('BENCH_SERVICE_SECRET'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
    {
      client_id: 'bench-web',
      client_secret: env('BENCH_WEB_SECRET'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT],
      id_token_signed_response_alg: ALG,
    },
  ],
  jwks: { keys: [jwk as never] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: 'Bench User', email: 'bench@example.test', email_verified: false }),
  }),
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  routes: { token: '/oauth/token', jwks: '/oauth/jwks', introspection: '/oauth/introspect', authorization: '/oauth/authorize' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE,
        audience: API,
        accessTokenTTL: 900,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: ALG } },
      }),
    },
  },
  rotateRefreshToken: true,
  ttl: { AccessToken: 900, ClientCredentials: 900, AuthorizationCode: 60, IdToken: 3600, Grant: 30 * 24 * 3600, RefreshToken: 14 * 24 * 3600 },
});
provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => process.stderr.write(`server_error: ${err.stack}\n`));

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(PORT, '127.0.0.1');

/** POST /codes?n=N&scope=...: N fresh codes for bench-web, with their PKCE verifiers. */
async function mintCodes(n: number, scope: string): Promise<{ code: string; verifier: string }[]> {
  const client = await provider.Client.find('bench-web');
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: 'bench-web' });
  grant.addOIDCScope(scope.split(' ').filter((s) => s !== SCOPE).join(' '));
  grant.addResourceScope(API, SCOPE);
  const grantId = await grant.save();
  const codes = [];
  for (let i = 0; i < n; i++) {
    const verifier = randomBytes(32).toString('base64url');
    const code = new provider.AuthorizationCode({
      accountId: 'bench-user',
      grantId,
      client: client!,
      scope,
      redirectUri: REDIRECT,
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
      codeChallengeMethod: 'S256',
      resource: API,
      authTime: Math.floor(Date.now() / 1000),
      claims: {},
    } as never);
    codes.push({ code: await code.save(), verifier });
  }
  return codes;
}

http
  .createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://helper');
    const n = Math.min(Number(url.searchParams.get('n') ?? 1), 20_000);
    mintCodes(n, url.searchParams.get('scope') ?? `openid profile ${SCOPE}`).then(
      (codes) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(codes));
      },
      (err) => {
        res.statusCode = 500;
        res.end(String(err?.stack ?? err));
      },
    );
  })
  .listen(HELPER_PORT, '127.0.0.1', () => process.stdout.write(`bare oidc-provider on ${ISSUER}, helper on ${HELPER_PORT}\n`));

process.on('SIGTERM', () => process.exit(0));
